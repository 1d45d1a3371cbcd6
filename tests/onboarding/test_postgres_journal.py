"""The PostgreSQL journal: one job shared by several workers, with claims, leases and fencing."""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from types import SimpleNamespace
from typing import Any

import anyio
import asyncpg
import attrs
import pytest
from _shared import FAST

from vzaps_async._client import Client
from vzaps_async._limits import CoolDown
from vzaps_async.errors import InputError, JournalError, LeaseLostError
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    Gates,
    InstanceSpec,
    PostgresJournal,
    Snapshot,
    State,
)
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig


def specs(count: int, prefix: str = "pg") -> list[InstanceSpec]:
    return [InstanceSpec(f"{prefix}-{i:04}") for i in range(count)]


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


async def _fresh_database(dsn: str, name: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return dsn.rsplit("/", 1)[0] + f"/{name}"


async def test_the_schema_is_created_once_by_workers_opening_together(postgres_dsn: str) -> None:
    """Three journals opened at once on an empty database create the schema once (versions 1
    and 2), and a later open migrates nothing."""
    dsn = await _fresh_database(postgres_dsn, f"schema_{id(object()):x}")
    journals = [PostgresJournal(dsn, job=f"job-{i}") for i in range(3)]
    async with anyio.create_task_group() as tg:
        for journal in journals:
            tg.start_soon(journal.open)
    for journal in journals:
        await journal.aclose()
    async with PostgresJournal(dsn, job="job-0"):
        pass
    conn = await asyncpg.connect(dsn)
    try:
        assert [r[0] for r in await conn.fetch("SELECT version FROM vzaps_schema")] == [1, 2]
    finally:
        await conn.close()


async def test_a_version_1_job_is_migrated_and_its_records_read_the_new_fields_as_defaults(
    postgres_dsn: str,
) -> None:
    """A job written before the supervisor's fields existed opens (schema 1 -> 2, the job's
    supervisor seat added) and its records read the streaks and attention as their defaults."""
    from vzaps_async.onboarding._postgres import _MIGRATIONS

    dsn = await _fresh_database(postgres_dsn, f"v1_{id(object()):x}")
    old = {"name": "old-1", "state": "CONNECTED", "instance_id": "VZ1", "connected_at": 5.0}
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE vzaps_schema (version integer NOT NULL)")
        await conn.execute(_MIGRATIONS[0])
        await conn.execute("INSERT INTO vzaps_schema VALUES (1)")
        await conn.execute("INSERT INTO vzaps_jobs (name) VALUES ('old')")
        await conn.execute(
            "INSERT INTO vzaps_instances (job, name, spec, state, record) "
            "VALUES ('old', 'old-1', '{}', 'CONNECTED', $1)",
            json.dumps(old),
        )
    finally:
        await conn.close()
    async with PostgresJournal(dsn, job="old") as journal:
        snap = await journal.get("old-1")
    assert snap is not None
    assert (snap.state, snap.connected_at) == (State.CONNECTED, 5.0)
    assert (snap.repair_streak, snap.repaired_at, snap.restart_attempts) == (0, None, 0)
    assert (snap.restart_sent_at, snap.attention) == (None, None)
    conn = await asyncpg.connect(dsn)
    try:
        assert [r[0] for r in await conn.fetch("SELECT version FROM vzaps_schema")] == [1, 2]
        assert await conn.fetchval("SELECT supervisor FROM vzaps_jobs") is None
    finally:
        await conn.close()


async def test_specs_are_added_once_and_a_changed_spec_is_refused(
    postgres_dsn: str, job_name: str
) -> None:
    """Workers adding the same specs add nothing twice; a known name with other fields is
    refused naming the instance, and nothing of that input is added."""
    async with (
        PostgresJournal(postgres_dsn, job=job_name) as a,
        PostgresJournal(postgres_dsn, job=job_name) as b,
    ):
        async with a.work(specs(5), Gates()):
            pass
        async with b.work(specs(5), Gates()):
            pass
        assert (await a.status()).states == {State.PLANNED: 5}
        changed = [*specs(4), InstanceSpec("pg-0004", phone="5511999999999"), InstanceSpec("new")]
        with pytest.raises(InputError, match="pg-0004") as caught:
            async with b.work(changed, Gates()):
                pass
        assert "already has an instance of this name with other fields" in str(caught.value)
        assert (await a.status()).total == 5


async def test_a_write_after_the_lease_expired_is_refused_and_stops_the_instance(
    postgres_dsn: str, job_name: str
) -> None:
    """Once a worker's lease expired in the database, its write is refused with LeaseLostError
    and its lease scope cancelled; the worker that takes the instance over gets the snapshot
    (pending intent included, to reconcile like a resume) and writes."""
    async with (
        PostgresJournal(postgres_dsn, job=job_name) as a,
        PostgresJournal(postgres_dsn, job=job_name) as b,
        a.work(specs(1), Gates()) as work_a,
    ):
        claim_a = await work_a.claim()
        assert claim_a is not None
        assert claim_a.lease is not None
        await a.save(Snapshot("pg-0000", state=State.PLANNED, intent="create"))
        await _execute(postgres_dsn, "UPDATE vzaps_workers SET expires_at = now() WHERE id = $1",
                       a.worker_id)  # fmt: skip
        with pytest.raises(LeaseLostError, match="pg-0000"):
            await a.save(Snapshot("pg-0000", state=State.FAILED, failure="stale"))
        assert claim_a.lease.cancel_called
        async with b.work([], Gates()) as work_b:
            claim_b = await work_b.claim()
            assert claim_b is not None
            assert claim_b.snapshot is not None
            assert claim_b.snapshot.intent == "create"
            await b.save(attrs.evolve(claim_b.snapshot, state=State.FAILED, failure="b"))
        got = await b.get("pg-0000")
    assert got is not None
    assert got.failure == "b"


async def test_a_lease_ending_on_the_worker_clock_stops_its_instances_while_renewal_hangs(
    postgres_dsn: str, job_name: str
) -> None:
    """When the heartbeat's renewal hangs (the database answers nothing), every held instance's
    lease scope is cancelled where the lease ends on the worker's clock, before the heartbeat
    gives the lease up."""
    async with (
        PostgresJournal(postgres_dsn, job=job_name, lease_seconds=1.5) as a,
        a.work(specs(2), Gates()) as work,
    ):
        claims = [await work.claim(), await work.claim()]
        first_id = a.worker_id
        conn = await asyncpg.connect(postgres_dsn)
        try:
            # A row lock held elsewhere: every renewal waits on it until its command timeout.
            async with conn.transaction():
                await conn.execute("SELECT 1 FROM vzaps_workers WHERE id = $1 FOR UPDATE", first_id)
                leases = [c.lease for c in claims if c is not None and c.lease is not None]
                assert len(leases) == 2
                with anyio.fail_after(10):
                    while not all(lease.cancel_called for lease in leases):  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                still_held = a.worker_id == first_id
        finally:
            await conn.close()
    assert still_held


async def test_a_statement_costs_one_round_trip_with_no_session_reset_after_it(
    postgres_dsn: str, job_name: str
) -> None:
    """The journal's connections run only its own statements: none is followed by the pool's
    session reset (RESET ALL, UNLISTEN *, ...), which would double the round trips."""
    async with (
        PostgresJournal(postgres_dsn, job=job_name) as journal,
        journal.work(specs(1), Gates()) as work,
    ):
        claim = await work.claim()
        assert claim is not None
        await journal.save(Snapshot("pg-0000", state=State.PLANNED, intent="create"))
        conn = await asyncpg.connect(postgres_dsn)
        try:
            last = await conn.fetch(
                "SELECT query FROM pg_stat_activity WHERE application_name = $1",
                journal.application_name,
            )
        finally:
            await conn.close()
    assert last
    assert not [row[0] for row in last if "RESET ALL" in row[0] or "UNLISTEN *" in row[0]]


async def test_the_database_refuses_a_write_with_a_stale_epoch_even_from_a_live_worker(
    postgres_dsn: str, job_name: str
) -> None:
    """The fencing is in the write itself: a write carrying the epoch of an earlier claim is
    not applied once the instance was claimed again, whoever sends it."""
    async with (
        PostgresJournal(postgres_dsn, job=job_name) as a,
        PostgresJournal(postgres_dsn, job=job_name) as b,
        a.work(specs(1), Gates()) as work_a,
    ):
        claim = await work_a.claim()
        assert claim is not None
        old_epoch = a._held["pg-0000"].epoch
        await _execute(postgres_dsn, "UPDATE vzaps_workers SET expires_at = now() WHERE id = $1",
                       a.worker_id)  # fmt: skip
        async with b.work([], Gates()) as work_b:
            assert await work_b.claim() is not None
            # A's lease is made live again (a heartbeat racing the takeover, say).
            await _execute(
                postgres_dsn,
                "UPDATE vzaps_workers SET expires_at = now() + interval '1 minute' WHERE id = $1",
                a.worker_id,
            )
            row = ("pg-0000", old_epoch, "FAILED", '{"name": "pg-0000"}', "stale")
            assert await a._write([row]) == set()
            b_epoch = b._held["pg-0000"].epoch
            assert await b._write([("pg-0000", b_epoch - 1, "FAILED", "{}", "stale")]) == set()
        assert await b.get("pg-0000") is None  # nothing was written


async def _execute(dsn: str, sql: str, *args: Any) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def test_closing_lets_a_group_being_written_land_before_giving_its_instance_back(
    postgres_dsn: str, job_name: str
) -> None:
    """A save whose group is being written when the journal closes (its caller gone) is
    committed before the close gives the instance back and ends the connections."""
    journal = await PostgresJournal(postgres_dsn, job=job_name).open()
    entered, release, closed = anyio.Event(), anyio.Event(), anyio.Event()
    write = journal._group._write

    async def held_write(batch: list[Any]) -> None:
        entered.set()
        await release.wait()
        await write(batch)

    journal._group._write = held_write

    async def close() -> None:
        await journal.aclose()
        closed.set()

    async with journal.work(specs(1), Gates()) as work:
        assert await work.claim() is not None
        async with anyio.create_task_group() as savers:
            planned = Snapshot("pg-0000", state=State.PLANNED, intent="create")
            savers.start_soon(journal.save, planned)
            await entered.wait()
            savers.cancel_scope.cancel()  # the saver leaves; its group is still being written
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(close)
                await anyio.sleep(0.2)
                assert not closed.is_set(), "closed while a group was being written"
                release.set()
    conn = await asyncpg.connect(postgres_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT owner, record FROM vzaps_instances WHERE job = $1 AND name = 'pg-0000'",
            job_name,
        )
    finally:
        await conn.close()
    assert row is not None
    assert row["owner"] is None
    assert json.loads(row["record"])["intent"] == "create"


async def test_a_429_on_one_worker_pauses_every_worker_of_the_job(
    postgres_dsn: str, job_name: str
) -> None:
    """A pause of one worker's cool-down reaches another worker's gate through the database."""
    gates_a, gates_b = Gates(cooldown=CoolDown()), Gates(cooldown=CoolDown())
    async with (
        PostgresJournal(postgres_dsn, job=job_name) as a,
        PostgresJournal(postgres_dsn, job=job_name) as b,
        a.work(specs(2), gates_a),
        b.work([], gates_b),
    ):
        gates_a.cooldown.pause(5.0)
        with anyio.fail_after(5):
            while not gates_b.cooldown.remaining:  # noqa: ASYNC110 - set by a listener
                await anyio.sleep(0.01)
        assert gates_b.cooldown.remaining > 3
        # The pause heard from the job is not sent back to it.
        assert gates_b.cooldown.pauses == 1
        status = await b.status()
    assert status.cooldown > 3


async def test_the_job_request_budget_is_shared_by_the_live_workers(
    postgres_dsn: str, job_name: str
) -> None:
    """With a job-wide budget, each live worker's rate limit is its equal share."""
    gates_a, gates_b = Gates(), Gates()
    async with (
        PostgresJournal(postgres_dsn, job=job_name, requests_per_second=40) as a,
        PostgresJournal(postgres_dsn, job=job_name, requests_per_second=40) as b,
        a.work(specs(2), gates_a),
    ):
        assert gates_a.rate is not None
        assert gates_a.rate.rate == 40
        async with b.work([], gates_b):
            assert gates_b.rate is not None
            assert gates_b.rate.rate == 20


async def test_a_worker_cut_from_the_database_stops_its_instances_and_another_finishes(
    postgres_dsn: str, job_name: str
) -> None:
    """A worker whose connections are cut (pg_terminate_backend, reconnecting refused) until
    its lease ends makes no call for an instance once the other worker has taken it over; the
    job ends connected with nothing created or subscribed twice."""
    # Worker A logs in as its own role, so that its reconnections can be refused during the cut.
    role = f"worker_{uuid.uuid4().hex[:8]}"
    await _execute(postgres_dsn, f'CREATE ROLE "{role}" LOGIN SUPERUSER')
    dsn_a = postgres_dsn.replace("postgres@", f"{role}@", 1)
    calls: list[tuple[str, str, float, float]] = []  # worker, instance name or id, start, end
    async with (
        # Pairing outlasts the lease: a worker that lost its lease would go on polling for codes
        # (no journal write on the way to stop it) unless the lease's cancel scope stops it.
        Simulator(
            phones=PhonePolicy.scan_after(3.0),
            config=SimulatorConfig(first_qr_seconds=5, qr_seconds=5),
        ) as sim,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as raw_a,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as raw_b,
        PostgresJournal(dsn_a, job=job_name, lease_seconds=1.5) as a,
        PostgresJournal(postgres_dsn, job=job_name, lease_seconds=1.5) as b,
    ):
        fleet_a = Fleet(
            _Recording(raw_a, "a", calls),
            a,
            specs(30),
            options=FleetOptions(max_in_flight=10, onboarding=FAST),
        )
        # B has room to spare: it takes A's instances over as soon as the database allows.
        fleet_b = Fleet(
            _Recording(raw_b, "b", calls),
            b,
            specs(30),
            options=FleetOptions(max_in_flight=30, onboarding=FAST),
        )
        first_id = a.worker_id
        reports = {}

        async def run(key: str, fleet: Fleet) -> None:
            reports[key] = await fleet.run()

        async def taken_over(conn: Any, held: list[str]) -> bool:
            return a.worker_id != first_id and bool(
                await conn.fetchval(
                    "SELECT count(*) FROM vzaps_instances "
                    "WHERE job = $1 AND owner = $2 AND name = ANY($3)",
                    job_name,
                    b.worker_id,
                    held,
                )
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "a", fleet_a)
            # Once A has instances pairing, start B and cut A off until it has given up its
            # lease and B has taken over some of what A held.
            with anyio.fail_after(20):
                while fleet_a.counts.get(State.PAIRING, 0) < 5:  # noqa: ASYNC110 - no event
                    await anyio.sleep(0.01)
            held = list(a._held)
            tg.start_soon(run, "b", fleet_b)
            conn = await asyncpg.connect(postgres_dsn)
            try:
                await conn.execute(f'ALTER ROLE "{role}" NOLOGIN')
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                    role,
                )
                with anyio.move_on_after(20) as waited:
                    while not await taken_over(conn, held):  # noqa: ASYNC110 - polling
                        await anyio.sleep(0.02)
                if waited.cancelled_caught:
                    rows = await conn.fetch(
                        "SELECT name, state, owner FROM vzaps_instances WHERE job = $1", job_name
                    )
                    workers = await conn.fetch(
                        "SELECT id, expires_at - now() FROM vzaps_workers WHERE job = $1", job_name
                    )
                    pytest.fail(
                        f"no takeover: A {first_id} -> {a.worker_id}, B {b.worker_id}, A held "
                        f"{held}; rows {[tuple(r) for r in rows]}; workers "
                        f"{[tuple(w) for w in workers]}"
                    )
            finally:
                await conn.execute(f'ALTER ROLE "{role}" LOGIN')
                await conn.close()
        status = await b.status()
        created = dict(sim.counters.instances_created)
        subscriptions = dict(sim.counters.subscriptions)
    assert status.states == {State.CONNECTED: 30}
    assert reports["a"].lost > 0
    assert reports["b"].job == {State.CONNECTED: 30}
    # Every instance that changed hands: all of A's calls for it ended before B's first.
    ids = {s.name: s.instance_id for s in await _snapshots(postgres_dsn, job_name)}
    by_key: dict[str, dict[str, list[tuple[float, float]]]] = {"a": {}, "b": {}}
    for worker, key, start, end in calls:
        name = next((n for n, i in ids.items() if key in (n, i)), key)
        by_key[worker].setdefault(name, []).append((start, end))
    shared = set(by_key["a"]) & set(by_key["b"])
    assert shared, "no instance changed hands"
    for name in shared:
        a_calls, b_calls = by_key["a"][name], by_key["b"][name]
        a_first, b_first = min(s for s, _ in a_calls), min(s for s, _ in b_calls)
        if a_first < b_first:
            assert max(e for _, e in a_calls) <= b_first, name
    assert set(created.values()) == {1}
    assert set(subscriptions.values()) == {1}


async def _snapshots(dsn: str, job: str) -> list[Snapshot]:
    async with PostgresJournal(dsn, job=job) as journal:
        return await journal.load_all()


class _Recording:
    """A client that records every call of the onboarding path: worker, instance, start, end."""

    def __init__(self, client: Client, worker: str, calls: list[tuple[str, str, float, float]]):
        self._client = client
        self._worker = worker
        self._calls = calls
        self.instances = _Recorded(client.instances, worker, calls)
        self.transport = client.transport

    def instance(self, instance_id: str, token: Any = None) -> Any:
        handle = self._client.instance(instance_id, token)
        return SimpleNamespace(
            session=_Recorded(handle.session, self._worker, self._calls, key=instance_id)
        )


class _Recorded:
    def __init__(
        self,
        target: Any,
        worker: str,
        calls: list[tuple[str, str, float, float]],
        key: str | None = None,
    ) -> None:
        self._target, self._worker, self._calls, self._key = target, worker, calls, key

    def __getattr__(self, attr: str) -> Any:
        method = getattr(self._target, attr)
        if not inspect.iscoroutinefunction(method):
            return method  # the paged inventory listing, say: not a call for one instance

        async def call(*args: Any, **kwargs: Any) -> Any:
            key = self._key or str(args[0])
            start = anyio.current_time()
            try:
                return await method(*args, **kwargs)
            finally:
                self._calls.append((self._worker, key, start, anyio.current_time()))

        return call


async def test_no_secret_reaches_a_debug_log_or_an_error(
    postgres_dsn: str,
    job_name: str,
    sim: Simulator,
    client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every logger at DEBUG over a fleet run on PostgreSQL (asyncpg's included) shows no
    client secret, instance token or database password; an error names the database without
    the password."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    password = "db-pass-7f3a9c"  # the throwaway cluster trusts local logins and ignores it
    dsn = postgres_dsn.replace("postgres@", f"postgres:{password}@", 1)
    async with PostgresJournal(dsn, job=job_name) as journal:
        report = await Fleet(client, journal, specs(5), options=FleetOptions(onboarding=FAST)).run()
        snapshots = await journal.load_all()
        assert password not in repr(journal)
    assert report.all_connected
    secrets = [sim.client_secret, password, *(s.token.reveal() for s in snapshots if s.token)]
    assert len(secrets) == 7
    unreachable = dsn.replace(dsn.rsplit(":", 1)[1].split("/")[0], "1", 1)
    with pytest.raises(JournalError) as caught:
        await PostgresJournal(unreachable, job=job_name).open()
    assert "postgresql://127.0.0.1:1/postgres" in str(caught.value)
    text = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    text += str(caught.value)
    assert [secret for secret in secrets if secret in text] == []


def test_the_unfinished_filter_names_exactly_the_terminal_states() -> None:
    """The claim's written-out filter (matched to the partial index) lists the terminal states."""
    from vzaps_async.onboarding._postgres import _UNFINISHED
    from vzaps_async.onboarding._state import TERMINAL_STATES

    listed = _UNFINISHED.split("(", 1)[1].rstrip(")").replace("'", "").split(", ")
    assert {State(name) for name in listed} == TERMINAL_STATES
