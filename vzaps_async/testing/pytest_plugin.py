"""pytest fixtures for code that talks to VZaps: a running simulator and a client bound to it.

Registered through the ``pytest11`` entry point, so installing ``vzaps-async[testing]`` makes the
fixtures available everywhere:

- ``vzaps_sim``: a started `Simulator` (phones scan only on command: ``await vzaps_sim.scan(id)``),
  lenient unless ``vzaps_sim_strict`` (override it to return True) says strict;
- ``vzaps_sim_strict``: False: whether ``vzaps_sim`` refuses requests not in the documented form;
- ``vzaps_client``: a ``vzaps_async.Client`` for the simulator's default account, with retry
  sleeps off.

The entry point is registered by every install (the core one included), so the fixtures exist
only where pytest-asyncio is importable (``vzaps-async[testing]``): elsewhere this plugin defines
nothing, and a project that installs only the client keeps its own test suite untouched. (Making
pytest-asyncio a core dependency instead would push test tooling into every production install.)

Importing this module is cheap: the simulator is imported when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from vzaps_async import Client

    from ._server import Simulator

__all__ = ["vzaps_client", "vzaps_sim", "vzaps_sim_strict"]

try:
    import pytest_asyncio
except ImportError:  # the core install: no fixtures
    _WITH_FIXTURES = False
else:
    _WITH_FIXTURES = True

if _WITH_FIXTURES:

    @pytest.fixture
    def vzaps_sim_strict() -> bool:
        """Whether ``vzaps_sim`` is strict; override this fixture to return True in your
        conftest."""
        return False

    @pytest_asyncio.fixture
    async def vzaps_sim(vzaps_sim_strict: bool) -> AsyncIterator[Simulator]:
        """A running VZaps API simulator with manual phones (stopped after the test)."""
        from ._phones import PhonePolicy
        from ._server import Simulator

        async with Simulator(phones=PhonePolicy.manual(), strict=vzaps_sim_strict) as simulator:
            yield simulator

    @pytest_asyncio.fixture
    async def vzaps_client(vzaps_sim: Simulator) -> AsyncIterator[Client]:
        """A ``vzaps_async.Client`` bound to ``vzaps_sim`` (retries do not sleep)."""
        from vzaps_async import Client, ClientConfig, RetryPolicy

        config = ClientConfig(
            base_url=vzaps_sim.base_url,
            realtime_url=vzaps_sim.realtime_url,
            retry=RetryPolicy(sleep=False),
        )
        async with Client(vzaps_sim.client_token, vzaps_sim.client_secret, config=config) as client:
            yield client
