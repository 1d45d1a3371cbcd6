"""vzaps_async: an asyncio-first SDK for the VZaps public WhatsApp API."""

from __future__ import annotations

from ._client import Client
from ._config import ClientConfig, Limits, RetryPolicy, Timeouts
from ._handle import Instance
from ._secret import Secret
from ._transport import RequestDeadline, RequestInfo, ResponseInfo
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
from .models import (
    ActionResult,
    BillingStatus,
    EventType,
    InstanceInfo,
    InstancePage,
    PairCode,
    QRCode,
    SentMessage,
    SessionStatus,
    Subscription,
    SubscriptionMode,
)
from .models.events import BaseEvent, Event, UnknownEvent, parse_event
from .onboarding import (
    Fleet,
    FleetOptions,
    FleetReport,
    InstanceSpec,
    MemoryJournal,
    Onboarding,
    OnboardingOptions,
    SQLiteJournal,
)
from .realtime import RealtimeStream
from .webhooks import Router, webhook_app

__all__ = [
    "APIError",
    "ActionResult",
    "AuthenticationError",
    "BadRequestError",
    "BaseEvent",
    "BillingStatus",
    "Client",
    "ClientConfig",
    "ConflictError",
    "ConnectError",
    "Event",
    "EventType",
    "Fleet",
    "FleetOptions",
    "FleetReport",
    "InputError",
    "Instance",
    "InstanceInfo",
    "InstancePage",
    "InstanceSpec",
    "Limits",
    "MemoryJournal",
    "NotFoundError",
    "Onboarding",
    "OnboardingOptions",
    "OutcomeUnknownError",
    "PairCode",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "QRCode",
    "RateLimitedError",
    "RealtimeStream",
    "RequestDeadline",
    "RequestInfo",
    "RequestTimeout",
    "ResponseError",
    "ResponseInfo",
    "RetryPolicy",
    "Router",
    "SQLiteJournal",
    "Secret",
    "SentMessage",
    "ServerError",
    "SessionStatus",
    "Subscription",
    "SubscriptionMode",
    "Timeouts",
    "TransportError",
    "UnknownEvent",
    "VZapsError",
    "parse_event",
    "webhook_app",
]
