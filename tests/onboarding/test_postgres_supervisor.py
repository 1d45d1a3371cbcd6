"""Supervising a PostgreSQL job: one supervisor per job, holding its instances under its lease."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import asyncpg
import pytest
from _shared import FAST, scanning, wait_for

from vzaps_async import JournalLockedError
from vzaps_async._client import Client
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    PostgresJournal,
    State,
    Supervisor,
    SupervisorOptions,
    SupervisorReport,
)
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

WATCHFUL = SupervisorOptions(
    probe_interval=0.1, trouble_interval=0.05, grace_period=0, repair_backoff=0, onboarding=FAST
)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """Phones that scan only when the test says so (a re-pair stays PAIRING until then)."""
    config = SimulatorConfig(first_qr_seconds=5.0, qr_seconds=5.0)
    async with Simulator(config, phones=PhonePolicy.manual()) as simulator:
        yield simulator


async def test_a_job_has_one_supervisor_that_holds_and_heals_its_instances(
    sim: Simulator, client: Client, postgres_dsn: str, job_name: str
) -> None:
    """The supervisor of a job takes its seat (a second one is refused, naming the holder, and
    an onboarding worker does not wait for its re-pairs), re-pairs a logged-out instance under
    its lease, and gives the seat and the instances back when it stops."""
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        specs = [InstanceSpec(f"pg-{i}") for i in range(3)]
        async with scanning(sim):
            onboarding = await Fleet(
                client, journal, specs, options=FleetOptions(onboarding=FAST)
            ).run()
        assert onboarding.all_connected
        ids = {s.name: s.instance_id for s in await journal.load_all()}
    async with (
        PostgresJournal(postgres_dsn, job=job_name) as journal,
        PostgresJournal(postgres_dsn, job=job_name) as rival,
    ):
        supervisor = Supervisor(client, journal, options=WATCHFUL)
        reports: list[SupervisorReport] = []

        async def supervise() -> None:
            reports.append(await supervisor.run())

        async with anyio.create_task_group() as tg:
            tg.start_soon(supervise)
            await wait_for(lambda: len(supervisor.snapshots) == 3)
            with pytest.raises(JournalLockedError, match=r"held by the supervisor .*pid \d+"):
                await Supervisor(client, rival, options=WATCHFUL).run(duration=0.1)
            await sim.logout(ids["pg-0"])
            await wait_for(lambda: supervisor.snapshots["pg-0"].state is State.PAIRING)
            # A worker joining the job meanwhile finds nothing to onboard and returns, without
            # waiting for the re-pair (nobody has scanned its QR yet).
            with anyio.fail_after(10):
                joined = await Fleet(client, rival, [], options=FleetOptions(onboarding=FAST)).run()
            assert joined.counts == {}
            assert supervisor.snapshots["pg-0"].state is State.PAIRING
            async with scanning(sim):
                await wait_for(lambda: supervisor.snapshots["pg-0"].state is State.CONNECTED)
            conn = await asyncpg.connect(postgres_dsn)
            try:
                owners = await conn.fetch(
                    "SELECT DISTINCT owner FROM vzaps_instances WHERE job = $1", job_name
                )
                seat = await conn.fetchval(
                    "SELECT supervisor FROM vzaps_jobs WHERE name = $1", job_name
                )
            finally:
                await conn.close()
            assert [row[0] for row in owners] == [journal.worker_id] == [seat]
            supervisor.stop()
        (report,) = reports
        assert (report.supervised, report.repairs, report.lost) == (3, 1, 0)
        assert report.all_connected
        # Given back: another supervisor may take the job now.
        again = await Supervisor(client, rival, options=WATCHFUL).run(duration=0.3)
        assert again.supervised == 3
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        snap = await journal.get("pg-0")
        assert snap is not None
        assert (snap.state, snap.repairs, snap.disconnects) == (State.CONNECTED, 1, 1)


async def test_an_instance_whose_lease_is_lost_is_no_longer_watched(
    sim: Simulator, client: Client, postgres_dsn: str, job_name: str
) -> None:
    """A write the job refuses (another holder fenced the instance off) stops the supervisor's
    watch of that instance before any re-pair, and the report counts it lost; the others go on."""
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        specs = [InstanceSpec(f"pg-{i}") for i in range(2)]
        async with scanning(sim):
            await Fleet(client, journal, specs, options=FleetOptions(onboarding=FAST)).run()
        ids = {s.name: s.instance_id for s in await journal.load_all()}
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        supervisor = Supervisor(client, journal, options=WATCHFUL)
        reports: list[SupervisorReport] = []

        async def supervise() -> None:
            reports.append(await supervisor.run())

        async with anyio.create_task_group() as tg:
            tg.start_soon(supervise)
            await wait_for(lambda: len(supervisor.snapshots) == 2)
            conn = await asyncpg.connect(postgres_dsn)
            try:
                await conn.execute(
                    "UPDATE vzaps_instances SET epoch = epoch + 1 WHERE job = $1 AND name = 'pg-0'",
                    job_name,
                )
            finally:
                await conn.close()
            qr_polls = sim.counters.requests["GET /instances/{id}/session/qr"]
            await sim.logout(ids["pg-0"])
            await anyio.sleep(1.0)
            supervisor.stop()
    (report,) = reports
    assert report.lost == 1
    assert not report.all_connected
    assert supervisor.snapshots["pg-0"].state is State.CONNECTED  # as last seen
    assert sim.counters.requests["GET /instances/{id}/session/qr"] == qr_polls


async def test_a_supervisor_keeps_its_instances_for_longer_than_one_lease(
    sim: Simulator, client: Client, postgres_dsn: str, job_name: str
) -> None:
    """The heartbeat renews the supervisor's lease, so no instance is given up as lost while
    the run lasts several lease lengths."""
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        specs = [InstanceSpec(f"pg-{i}") for i in range(2)]
        async with scanning(sim):
            await Fleet(client, journal, specs, options=FleetOptions(onboarding=FAST)).run()
    async with PostgresJournal(postgres_dsn, job=job_name, lease_seconds=0.6) as journal:
        report = await Supervisor(client, journal, options=WATCHFUL).run(duration=2.0)
    assert (report.supervised, report.lost) == (2, 0)
    assert report.all_connected


async def test_a_supervisor_whose_renewals_hang_stops_every_watch_when_its_lease_ends(
    sim: Simulator, client: Client, postgres_dsn: str, job_name: str
) -> None:
    """When the heartbeat cannot renew (the database holds every renewal), every watch stops
    once the lease ends, so the run returns long before its duration with each instance lost."""
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        specs = [InstanceSpec(f"pg-{i}") for i in range(2)]
        async with scanning(sim):
            await Fleet(client, journal, specs, options=FleetOptions(onboarding=FAST)).run()
    async with PostgresJournal(postgres_dsn, job=job_name, lease_seconds=1.5) as journal:
        supervisor = Supervisor(client, journal, options=WATCHFUL)
        reports: list[SupervisorReport] = []

        async def supervise() -> None:
            reports.append(await supervisor.run(duration=60))

        conn = await asyncpg.connect(postgres_dsn)
        try:
            with anyio.fail_after(15):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(supervise)
                    await wait_for(lambda: len(supervisor.snapshots) == 2)
                    # A row lock held elsewhere: every renewal waits on it until its timeout.
                    async with conn.transaction():
                        await conn.execute(
                            "SELECT 1 FROM vzaps_workers WHERE id = $1 FOR UPDATE",
                            journal.worker_id,
                        )
                        await wait_for(lambda: bool(reports), seconds=10)
        finally:
            await conn.close()
    (report,) = reports
    assert (report.supervised, report.lost) == (2, 2)
    assert report.elapsed < 15
