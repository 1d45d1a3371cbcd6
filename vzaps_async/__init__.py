"""vzaps_async: an asyncio-first SDK for the VZaps public WhatsApp API."""

from __future__ import annotations

from ._config import ClientConfig, Limits, RetryPolicy, Timeouts
from ._secret import Secret
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    InputError,
    NotFoundError,
    OutcomeUnknownError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeout,
    ResponseError,
    ServerError,
    TransportError,
    VZapsError,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ClientConfig",
    "ConflictError",
    "ConnectError",
    "InputError",
    "Limits",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeout",
    "ResponseError",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "Timeouts",
    "TransportError",
    "VZapsError",
]
