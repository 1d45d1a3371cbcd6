"""The PostgreSQL journal: one job shared by several workers, with claims, leases and fencing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from vzaps_async._client import Client
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    OnboardingOptions,
    PostgresJournal,
    State,
)
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

FAST = OnboardingOptions(poll_interval=0.02, deadline=60, backoff_base=0.01, backoff_max=0.2)
QUICK_QR = SimulatorConfig(first_qr_seconds=0.3, qr_seconds=0.3)


def specs(count: int, prefix: str = "pg") -> list[InstanceSpec]:
    return [InstanceSpec(f"{prefix}-{i:04}") for i in range(count)]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(phones=PhonePolicy.scan_after(0.05), config=QUICK_QR) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as c:
        yield c


async def test_one_worker_onboards_the_job_and_reports_the_whole_job(
    postgres_dsn: str, job_name: str, sim: Simulator, client: Client
) -> None:
    """A fleet on the PostgreSQL journal brings every spec to CONNECTED, once each."""
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        report = await Fleet(
            client, journal, specs(30), options=FleetOptions(onboarding=FAST)
        ).run()
        assert report.counts == {State.CONNECTED: 30}
        assert report.job == {State.CONNECTED: 30}
        assert report.all_connected
        snapshots = await journal.load_all()
    assert {s.name for s in snapshots} == {s.name for s in specs(30)}
    assert all(n == 1 for n in sim.counters.instances_created.values())
    assert all(n == 1 for n in sim.counters.subscriptions.values())
