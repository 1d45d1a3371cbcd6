"""The public surface: what `import vzaps_async` offers, and what it costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    "vzaps_async.models",
    "vzaps_async.api",
    "cattrs",
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
    """`import vzaps_async` loads the client only: no models, API groups, cattrs, onboarding,
    webhooks, realtime or extras."""
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


def _loaded(code: str) -> set[str]:
    # The package's modules and cattrs in ``sys.modules`` after running ``code`` in a fresh process.
    code += "; import sys; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m for m in out.stdout.split() if m.startswith(("vzaps_async.", "cattrs"))}


def test_a_group_loads_its_own_module_and_models_on_first_access() -> None:
    """A handle's first `messages` imports the messages group and models, no other group."""
    loaded = _loaded(
        "import vzaps_async; vzaps_async.Client('t', 's').instance('VZ1', 'tok').messages"
    )
    api = {m for m in loaded if m.startswith(("vzaps_async.api", "vzaps_async.models"))}
    assert api == {
        "vzaps_async.api",
        "vzaps_async.api._base",
        "vzaps_async.api._paging",  # the page checks the groups' base shares (no models)
        "vzaps_async.api.messages",
        "vzaps_async.models",
        "vzaps_async.models.common",
        "vzaps_async.models.messages",
    }
    assert "cattrs" in loaded


def test_the_converter_loads_no_model() -> None:
    """The converter's hooks are built per type on first use: importing it imports no model."""
    assert not {m for m in _loaded("import vzaps_async._convert") if ".models" in m}


@pytest.mark.parametrize("package", ["vzaps_async", "vzaps_async.models", "vzaps_async.api"])
def test_lazy_names_match_what_mypy_reads(package: str) -> None:
    """Every exported name is imported either at once or under TYPE_CHECKING (what mypy and IDEs
    read), never both, and loads from the module that defines it."""
    import ast
    import importlib

    module = importlib.import_module(package)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text())
    eager: set[str] = set()
    typed: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            eager.update(a.asname or a.name for a in node.names)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for inner in node.body:
                assert isinstance(inner, ast.ImportFrom)
                assert inner.module is not None
                typed.update((a.asname or a.name, inner.module) for a in inner.names)
    exported = set(module.__all__)
    assert exported == (eager & exported) | typed.keys()
    assert not eager & typed.keys()
    for name, source in typed.items():
        defined = importlib.import_module(f"{package}.{source}")
        assert getattr(module, name) is getattr(defined, name), name


def test_every_error_derives_from_vzaps_error() -> None:
    """Every exception class exported is a VZapsError, so one except clause catches them all."""
    for name in vzaps_async.__all__:
        obj = getattr(vzaps_async, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, vzaps_async.VZapsError), name
