"""`RequestDeadline`: a time limit on every request of a block, enforced on aiohttp's own timer,
and the onboarding step timeout built on it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from vzaps_async import (
    Client,
    ClientConfig,
    OutcomeUnknownError,
    RequestDeadline,
    RequestNotSent,
    RequestTimeout,
    RetryPolicy,
)
from vzaps_async.onboarding import MemoryJournal, Onboarding, OnboardingOptions, State
from vzaps_async.testing import FaultRule, PhonePolicy, Simulator, SimulatorConfig

QR_ROUTE = "GET /instances/{id}/session/qr"


@contextlib.asynccontextmanager
async def running(
    retry: RetryPolicy | None = None, **sim_options: Any
) -> AsyncIterator[tuple[Simulator, Client]]:
    """A simulator and a client of its default account, its JWT fetched outside any deadline."""
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(Simulator(**sim_options))
        config = ClientConfig(base_url=sim.base_url, retry=retry or RetryPolicy())
        client = Client(sim.client_token, sim.client_secret, config=config)
        await stack.enter_async_context(client)
        await client.instances.list()
        yield sim, client


async def test_a_slow_read_ends_at_the_deadline_without_retrying_past_it() -> None:
    """A read slower than the deadline raises RequestTimeout on time, retries included."""
    async with running(RetryPolicy(base_delay=0.01)) as (sim, client):
        sim.faults.add(FaultRule(route="POST /instances/list", latency=1.0))
        started = time.monotonic()
        with pytest.raises(RequestTimeout), RequestDeadline(0.2):
            await client.instances.list()
        assert time.monotonic() - started < 0.9
        sim.faults.clear()


async def test_nothing_is_sent_once_the_deadline_has_passed() -> None:
    """A request started after its deadline raises RequestTimeout and never reaches the server."""
    async with running() as (sim, client):
        before = sim.counters.requests.total()
        with RequestDeadline(0.01):
            await asyncio.sleep(0.05)
            with pytest.raises(RequestNotSent, match="before it was sent"):
                await client.instances.list()
        assert sim.counters.requests.total() == before


async def test_nested_deadlines_keep_the_earlier_one() -> None:
    """An inner RequestDeadline cannot extend the time an outer one allows."""
    async with running() as (_, client):
        with RequestDeadline(0.01):
            await asyncio.sleep(0.05)
            with RequestDeadline(60), pytest.raises(RequestTimeout):
                await client.instances.list()


async def test_the_onboarding_step_timeout_cuts_hung_polls_with_a_real_client() -> None:
    """Polls that hang past step_timeout are cut and polled again, so pairing still finishes."""
    quick = SimulatorConfig(first_qr_seconds=0.3, qr_seconds=0.3)
    async with running(phones=PhonePolicy.scan_after(0.05), config=quick) as (sim, client):
        sim.faults.add(FaultRule(route=QR_ROUTE, latency=1.0))
        options = OnboardingOptions(
            step_timeout=0.15, poll_interval=0.02, backoff_base=0.01, backoff_max=0.05
        )
        onboarding = Onboarding(client, MemoryJournal(), "deadline-1", options=options)
        async with anyio.create_task_group() as tg:
            tg.start_soon(onboarding.run)
            # Long enough for several polls to be cut by the step timeout.
            await anyio.sleep(0.6)
            sim.faults.clear()
        assert onboarding.snapshot is not None
        assert onboarding.snapshot.state is State.CONNECTED
        # Without the step timeout the first hung poll would have been the only one.
        assert sim.counters.faults["latency"] >= 2


async def test_a_create_cut_by_the_deadline_is_an_unknown_outcome() -> None:
    """A create that outlasts its deadline may have been applied: OutcomeUnknownError."""
    async with running() as (sim, client):
        sim.faults.add(FaultRule(route="PUT /instances/create", latency=0.5))
        with pytest.raises(OutcomeUnknownError), RequestDeadline(0.1):
            await client.instances.create("deadline-create")
        sim.faults.clear()
