"""The public surface: what `import vzaps_async` offers, and what it costs."""

from __future__ import annotations

import subprocess
import sys

import pytest

import vzaps_async

EXPECTED = {
    "SQLiteJournal",
    "OnboardingOptions",
    "Onboarding",
    "MemoryJournal",
    "InstanceSpec",
    "FleetReport",
    "FleetOptions",
    "Fleet",
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
    "InputError",
    "JournalError",
    "JournalLockedError",
    "LeaseLostError",
    "PostgresJournal",
    "Instance",
    "InstanceInfo",
    "InstancePage",
    "Limits",
    "NotFoundError",
    "OutcomeUnknownError",
    "PairCode",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "QRCode",
    "RateLimitedError",
    "RealtimeStream",
    "RequestDeadline",
    "RequestInfo",
    "RequestNotSent",
    "RequestTimeout",
    "ResponseError",
    "ResponseInfo",
    "RetryPolicy",
    "Router",
    "Secret",
    "SentMessage",
    "ServerError",
    "SessionStatus",
    "StatusResult",
    "WireForms",
    "HTTPExchange",
    "RawResponse",
    "Subscription",
    "SubscriptionMode",
    "Supervisor",
    "SupervisorOptions",
    "SupervisorReport",
    "Timeouts",
    "TransportError",
    "UnknownEvent",
    "VZapsError",
    "parse_event",
    "webhook_app",
}


def test_exported_names() -> None:
    """`vzaps_async.__all__` is exactly the documented public names, sorted, all importable."""
    assert set(vzaps_async.__all__) == EXPECTED
    assert list(vzaps_async.__all__) == sorted(vzaps_async.__all__)
    for name in vzaps_async.__all__:
        assert getattr(vzaps_async, name) is not None


HEAVY = [
    "vzaps_async.testing",
    "vzaps_async.onboarding",
    "vzaps_async.webhooks",
    "vzaps_async.realtime",
    "aiohttp.web",
    "sqlite3",
    "asyncpg",
    "segno",
    "rich",
    "prometheus_client",
    "opentelemetry",
]


def test_import_stays_light() -> None:
    """`import vzaps_async` loads the client only: no onboarding, webhooks, realtime, extras."""
    code = (
        f"import sys, vzaps_async; heavy = {HEAVY!r}; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_names_load_their_layer_on_first_use() -> None:
    """A lazily loaded name is the same object its layer exports, and unknown names still fail."""
    from vzaps_async.onboarding import SQLiteJournal
    from vzaps_async.realtime import RealtimeStream
    from vzaps_async.webhooks import webhook_app

    assert vzaps_async.SQLiteJournal is SQLiteJournal
    assert vzaps_async.RealtimeStream is RealtimeStream
    assert vzaps_async.webhook_app is webhook_app
    assert set(vzaps_async.__all__) <= set(dir(vzaps_async))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = vzaps_async.no_such_name  # type: ignore[attr-defined]


def test_every_error_derives_from_vzaps_error() -> None:
    """Every exception class exported is a VZapsError, so one except clause catches them all."""
    for name in vzaps_async.__all__:
        obj = getattr(vzaps_async, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, vzaps_async.VZapsError), name
