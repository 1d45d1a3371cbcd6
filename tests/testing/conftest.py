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


@pytest.fixture
async def auth(sim: Simulator, http: aiohttp.ClientSession) -> dict[str, str]:
    """``Authorization`` headers with a JWT of ``sim``'s default account (through the module's
    ``http`` session)."""
    async with http.post(
        "/token", json={"client_token": sim.client_token, "client_secret": sim.client_secret}
    ) as response:
        return {"Authorization": f"Bearer {(await response.json())['access_token']}"}
