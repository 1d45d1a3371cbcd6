"""Shared fixtures of the onboarding tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from vzaps_async import Client
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator whose phones scan 50 ms after an instance's first QR (codes rotate in 0.3 s)."""
    config = SimulatorConfig(first_qr_seconds=0.3, qr_seconds=0.3)
    async with Simulator(phones=PhonePolicy.scan_after(0.05), config=config) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    """A client of ``sim``'s account."""
    async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as c:
        yield c
