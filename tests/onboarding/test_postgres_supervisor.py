"""Supervising a PostgreSQL job: one supervisor per job, holding its instances under its lease."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import asyncpg
import pytest

from vzaps_async import JournalLockedError
from vzaps_async._client import Client
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    OnboardingOptions,
    PostgresJournal,
    State,
    Supervisor,
    SupervisorOptions,
    SupervisorReport,
)
from vzaps_async.testing import Simulator

FAST = OnboardingOptions(poll_interval=0.02, deadline=30, backoff_base=0.01, backoff_max=0.2)
WATCHFUL = SupervisorOptions(
    probe_interval=0.1, trouble_interval=0.05, grace_period=0, repair_backoff=0, onboarding=FAST
)


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    with anyio.fail_after(seconds):
        for _ in iter(condition, True):
            await anyio.sleep(0.02)


async def test_a_job_has_one_supervisor_that_holds_and_heals_its_instances(
    sim: Simulator, client: Client, postgres_dsn: str, job_name: str
) -> None:
    """The supervisor of a job takes its seat (a second one is refused, naming the holder, and
    an onboarding worker does not wait for its re-pairs), re-pairs a logged-out instance under
    its lease, and gives the seat and the instances back when it stops."""
    async with PostgresJournal(postgres_dsn, job=job_name) as journal:
        specs = [InstanceSpec(f"pg-{i}") for i in range(3)]
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
            # A worker joining the job meanwhile finds nothing to onboard and returns.
            with anyio.fail_after(10):
                joined = await Fleet(client, rival, [], options=FleetOptions(onboarding=FAST)).run()
            assert joined.counts == {}
            await wait_for(
                lambda: (
                    supervisor.snapshots["pg-0"].state is State.CONNECTED
                    and supervisor.snapshots["pg-0"].repairs == 1
                )
            )
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
