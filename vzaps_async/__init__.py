"""vzaps_async: an asyncio-first SDK for the VZaps public WhatsApp API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._client import Client
from ._config import ClientConfig, Limits, RetryPolicy, Timeouts, WireForms
from ._handle import Instance
from ._lazy import lazy_names
from ._logs import configure_from_env
from ._raw import HTTPExchange, RawResponse
from ._secret import Secret
from ._transport import RequestDeadline, RequestInfo, ResponseInfo
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    InputError,
    JournalError,
    JournalLockedError,
    LeaseLostError,
    NotFoundError,
    OutcomeUnknownError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitedError,
    RequestNotSent,
    RequestTimeout,
    ResponseError,
    ServerError,
    TransportError,
    VZapsError,
)

if TYPE_CHECKING:
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
        StatusResult,
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
        PostgresJournal,
        SQLiteJournal,
        Supervisor,
        SupervisorOptions,
        SupervisorReport,
    )
    from .realtime import RealtimeStream
    from .webhooks import Router, webhook_app

# What a client does not need before its first call loads on first use of one of its names: the
# models (each module when one of its classes is first used), the onboarding driver and fleet,
# the realtime stream and the webhook receiver (which pulls in aiohttp.web). Keep in step with
# the TYPE_CHECKING imports above, which are what mypy and IDEs read.
__getattr__, __dir__ = lazy_names(
    globals(),
    {
        "ActionResult": "models",
        "BillingStatus": "models",
        "EventType": "models",
        "InstanceInfo": "models",
        "InstancePage": "models",
        "PairCode": "models",
        "QRCode": "models",
        "SentMessage": "models",
        "SessionStatus": "models",
        "StatusResult": "models",
        "Subscription": "models",
        "SubscriptionMode": "models",
        "BaseEvent": "models.events",
        "Event": "models.events",
        "UnknownEvent": "models.events",
        "parse_event": "models.events",
        "Fleet": "onboarding",
        "FleetOptions": "onboarding",
        "FleetReport": "onboarding",
        "InstanceSpec": "onboarding",
        "MemoryJournal": "onboarding",
        "Onboarding": "onboarding",
        "OnboardingOptions": "onboarding",
        "PostgresJournal": "onboarding",
        "SQLiteJournal": "onboarding",
        "Supervisor": "onboarding",
        "SupervisorOptions": "onboarding",
        "SupervisorReport": "onboarding",
        "RealtimeStream": "realtime",
        "Router": "webhooks",
        "webhook_app": "webhooks",
    },
)

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
    "HTTPExchange",
    "InputError",
    "Instance",
    "InstanceInfo",
    "InstancePage",
    "InstanceSpec",
    "JournalError",
    "JournalLockedError",
    "LeaseLostError",
    "Limits",
    "MemoryJournal",
    "NotFoundError",
    "Onboarding",
    "OnboardingOptions",
    "OutcomeUnknownError",
    "PairCode",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PostgresJournal",
    "QRCode",
    "RateLimitedError",
    "RawResponse",
    "RealtimeStream",
    "RequestDeadline",
    "RequestInfo",
    "RequestNotSent",
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
    "StatusResult",
    "Subscription",
    "SubscriptionMode",
    "Supervisor",
    "SupervisorOptions",
    "SupervisorReport",
    "Timeouts",
    "TransportError",
    "UnknownEvent",
    "VZapsError",
    "WireForms",
    "parse_event",
    "webhook_app",
]

# VZAPS_LOG=debug|info turns the package's logging on without any setup in the application.
configure_from_env()
