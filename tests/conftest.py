"""Shared test setup."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aioresponses.core
import anyio.from_thread
import pytest
import pytest_asyncio
from aiohttp import ClientResponse
from hypothesis import settings

from vzaps_async.testing import ManualClock, PhonePolicy, Simulator, SimulatorConfig

# No per-example deadline: the properties test behaviour, and a 2-core machine running the whole
# suite can take longer than Hypothesis's default 200 ms for one example without anything wrong.
settings.register_profile("vzaps_async", deadline=None)
settings.load_profile("vzaps_async")

# aiohttp 3.14 made `stream_writer` a required argument of ClientResponse, and aioresponses
# (0.7.9, the latest release) does not pass it yet, so every mocked response fails to build. Until
# aioresponses ships the fix, give its responses a finished writer (output_size 0); nothing here
# reads it. The shim only applies when the installed aiohttp needs it.
if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:

    class _MockedResponse(ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _MockedResponse  # type: ignore[misc]


@pytest.fixture(autouse=True, scope="session")
def _strict_simulators() -> Iterator[None]:
    """Every simulator this suite starts is strict unless a test says otherwise, so each request
    the SDK sends in any test is checked against the documented form."""
    Simulator.default_strict = True
    yield
    Simulator.default_strict = False


@pytest.fixture
def vzaps_sim_strict() -> bool:
    """The pytest plugin's simulator is strict in this suite too."""
    return True


# A simulator on a manual clock, shared by the simulator route tests. Override `config` per test
# (``@pytest.mark.parametrize("config", [SimulatorConfig(...)])``) or per module; modules that
# need other phones or sinks define their own `sim`.


@pytest.fixture
def clock() -> ManualClock:
    """The simulator's clock, advanced by hand."""
    return ManualClock()


@pytest.fixture
def config() -> SimulatorConfig:
    """The simulator's settings (defaults)."""
    return SimulatorConfig()


@pytest.fixture
def strict() -> bool:
    """Whether `sim` is strict; tests of the lenient forms parametrize it to False."""
    return True


@pytest_asyncio.fixture
async def sim(
    clock: ManualClock, config: SimulatorConfig, strict: bool
) -> AsyncIterator[Simulator]:
    """A started in-process simulator using `clock`, `config` and `strict`."""
    async with Simulator(config, clock=clock, strict=strict) as simulator:
        yield simulator


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The DSN of a PostgreSQL server for this test session (see tests/_postgres.py)."""
    from _postgres import postgres_server

    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def job_name(request: pytest.FixtureRequest) -> str:
    """A job name of this test's own, so tests sharing one database never meet."""
    return f"{request.node.name[:80]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def live_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A simulator served from its own thread (phones scan after 0.05 s), the VZAPS_* variables
    pointing at it, for code under test that runs its own event loop (the CLIs, README code)."""
    with anyio.from_thread.start_blocking_portal() as portal:
        simulator = Simulator(phones=PhonePolicy.scan_after(0.05))
        portal.call(simulator.start)
        monkeypatch.setenv("VZAPS_CLIENT_TOKEN", simulator.client_token)
        monkeypatch.setenv("VZAPS_CLIENT_SECRET", simulator.client_secret)
        monkeypatch.setenv("VZAPS_BASE_URL", simulator.base_url)
        monkeypatch.setenv("VZAPS_REALTIME_URL", simulator.realtime_url)
        try:
            yield simulator
        finally:
            portal.call(simulator.aclose)
