"""The public surface: what `import vzaps_async` offers, and what it costs."""

from __future__ import annotations

import subprocess
import sys

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


def test_import_stays_light() -> None:
    """Importing the client pulls in neither the simulator, the optional extras nor the journal."""
    code = (
        "import sys, vzaps_async; "
        "heavy = ['vzaps_async.testing', 'aiosqlite', 'asyncpg', 'segno', 'rich', "
        "'prometheus_client', 'opentelemetry']; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_error_derives_from_vzaps_error() -> None:
    """Every exception class exported is a VZapsError, so one except clause catches them all."""
    for name in vzaps_async.__all__:
        obj = getattr(vzaps_async, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, vzaps_async.VZapsError), name
