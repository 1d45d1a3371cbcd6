"""Fixtures of the simulator tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from _sim_api import Api, RecordingSink, open_api

from vzaps_async.testing import Simulator


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """A running simulator with one fresh (unconnected) instance."""
    async with Simulator() as sim, aiohttp.ClientSession() as http:
        yield await open_api(sim.base_url, http, sim.state)


@pytest.fixture
def sink(sim: Simulator) -> RecordingSink:
    """The `RecordingSink` a module's ``sim`` fixture installed as the state's events."""
    assert isinstance(sim.state.events, RecordingSink)
    return sim.state.events
