"""`PostgresJournal`: one fleet job shared by many workers on many machines.

The job lives in three tables (created and migrated by the journal itself, see `_MIGRATIONS`):
``vzaps_jobs`` (one row per job, with the job-wide 429 cool-down), ``vzaps_instances`` (one row
per instance: its spec, its journaled snapshot, who holds it and the fencing epoch) and
``vzaps_workers`` (one row per worker run: id, host, pid, heartbeat and lease expiry).

The rules (``docs/distributed.md`` has the whole design):

- a worker claims instances in batches with ``FOR UPDATE SKIP LOCKED``; each claim bumps the
  instance's epoch, so whoever held it before can no longer write it;
- its lease is its worker row's expiry, pushed forward by a heartbeat; every write names the
  worker and the epoch it claimed with and is refused unless both still hold and the lease is
  live (all in the database's clock, so clock skew between machines does not matter);
- each claimed instance runs inside a cancel scope that one watchdog cancels where this worker's
  lease ends on its own clock, less a grace (measured from when the renewal was *sent*): when the
  heartbeat cannot renew, every call for those instances stops before the database could let
  another worker take them over;
- an instance whose worker's lease expired is claimed by any live worker, which resumes it
  from its snapshot exactly like a crash resume (a pending intent is reconciled first);
- one 429 anywhere pauses every worker: the pause is written to the job row and announced
  with NOTIFY; each worker LISTENs and closes its own cool-down gate.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
from collections import Counter, deque
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import attrs

from vzaps_async import _json
from vzaps_async._limits import CoolDown, RateLimiter
from vzaps_async.errors import InputError, JournalError, JournalLockedError, LeaseLostError

from ._driver import Gates
from ._fleet import InstanceSpec
from ._state import Snapshot, State
from ._store import (
    Claim,
    GroupCommit,
    Watched,
    Work,
    _decode,
    is_supervised,
    snapshot_to_record,
)

__all__ = ["JobStatus", "PostgresJournal", "WorkerStatus"]

log = logging.getLogger("vzaps_async.onboarding.postgres")

# Written out (not a parameter) so that the planner matches it to the partial index of
# unfinished instances: claims then never scan a job's finished rows.
_UNFINISHED = "state NOT IN ('CANCELLED', 'CONNECTED', 'DISCONNECTED', 'FAILED', 'STALLED')"

# Each entry takes the schema from version i to i + 1; applied in order under an advisory lock,
# so workers starting together migrate once. Never edit an entry: append a new one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE vzaps_jobs (
        name text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        cooldown_until timestamptz NOT NULL DEFAULT 'epoch'
    );
    CREATE TABLE vzaps_workers (
        job text NOT NULL REFERENCES vzaps_jobs ON DELETE CASCADE,
        id text NOT NULL,
        host text NOT NULL,
        pid integer NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (job, id)
    );
    CREATE TABLE vzaps_instances (
        job text NOT NULL REFERENCES vzaps_jobs ON DELETE CASCADE,
        name text NOT NULL,
        seq bigserial,
        spec text NOT NULL,
        state text NOT NULL DEFAULT 'PLANNED',
        record text,
        failure text,
        owner text,
        epoch bigint NOT NULL DEFAULT 0,
        done_by text,
        updated_at timestamptz,
        PRIMARY KEY (job, name)
    );
    CREATE INDEX vzaps_instances_open ON vzaps_instances (job, seq)
        WHERE state NOT IN ('CANCELLED', 'CONNECTED', 'DISCONNECTED', 'FAILED', 'STALLED');
    """,
    # 2: the job's one supervisor (a worker id: its seat lasts as long as that worker's lease).
    # The supervisor's streaks and `attention` live in the record's JSON: nothing to rewrite.
    """
    ALTER TABLE vzaps_jobs ADD COLUMN supervisor text;
    """,
)
# Any constant that other applications are unlikely to use for pg_advisory_xact_lock.
_MIGRATION_LOCK = 0x767A617073

_INTERVAL = "make_interval(secs => $3)"

_RENEW = f"""
UPDATE vzaps_workers SET heartbeat_at = now(), expires_at = now() + {_INTERVAL}
WHERE job = $1 AND id = $2 AND expires_at > now()
RETURNING 1
"""

# The worker's lease is renewed in the same statement, and nothing is claimed once it expired.
# NOT EXISTS rather than a join: when a row is locked by a concurrent claim, PostgreSQL rechecks
# this condition against the row's new owner (a joined row would be the stale one).
_CLAIM = f"""
WITH me AS (
    UPDATE vzaps_workers SET heartbeat_at = now(), expires_at = now() + {_INTERVAL}
    WHERE job = $1 AND id = $2 AND expires_at > now()
    RETURNING id
), free AS (
    SELECT i.name FROM vzaps_instances i
    WHERE i.job = $1 AND i.{_UNFINISHED} AND i.name <> ALL($5::text[])
      AND EXISTS (SELECT 1 FROM me)
      AND (i.owner IS NULL OR NOT EXISTS (
          SELECT 1 FROM vzaps_workers o
          WHERE o.job = i.job AND o.id = i.owner AND o.expires_at > now()))
    ORDER BY i.seq
    LIMIT $4
    FOR UPDATE OF i SKIP LOCKED
)
UPDATE vzaps_instances i SET owner = $2, epoch = i.epoch + 1
FROM free WHERE i.job = $1 AND i.name = free.name
RETURNING i.name, i.epoch, i.spec, i.record
"""

# One statement per commit group: rows whose epoch or owner no longer match, or whose worker's
# lease expired, are not written and not returned.
_WRITE = """
UPDATE vzaps_instances i
SET state = u.state, record = u.record, failure = u.failure, updated_at = now(),
    done_by = CASE WHEN u.state = 'CONNECTED' THEN i.owner ELSE i.done_by END
FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[])
    AS u(name, epoch, state, record, failure)
WHERE i.job = $1 AND i.name = u.name AND i.owner = $2 AND i.epoch = u.epoch
  AND EXISTS (SELECT 1 FROM vzaps_workers w
              WHERE w.job = $1 AND w.id = $2 AND w.expires_at > now())
RETURNING i.name
"""

# A write for an instance no worker holds (an `Onboarding` run on its own, outside a fleet):
# it claims the row, creating it when the job does not have it yet.
_CLAIM_ON_WRITE = """
INSERT INTO vzaps_instances AS i (job, name, spec, state, record, failure, owner, epoch,
                                  updated_at)
VALUES ($1, $3, $4, $5, $6, $7, $2, 1, now())
ON CONFLICT (job, name) DO UPDATE
SET state = excluded.state, record = excluded.record, failure = excluded.failure,
    owner = excluded.owner, epoch = i.epoch + 1, updated_at = now()
WHERE i.owner IS NULL OR i.owner = $2 OR NOT EXISTS (
    SELECT 1 FROM vzaps_workers o WHERE o.job = i.job AND o.id = i.owner AND o.expires_at > now())
RETURNING i.epoch
"""

# Whether anything unfinished is left that this worker may yet get: held by another worker
# (alive: it may die; dead: it is claimable) or free. A claim that found nothing a moment ago
# may have run just before another worker's lease expired.
_OTHERS_BUSY = f"""
SELECT EXISTS (
    SELECT 1 FROM vzaps_instances i
    WHERE i.job = $1 AND i.{_UNFINISHED} AND i.name <> ALL($3::text[])
      AND i.owner IS DISTINCT FROM $2
      -- A re-pair the job's supervisor runs is not onboarding's to wait for.
      AND NOT EXISTS (SELECT 1 FROM vzaps_jobs j WHERE j.name = $1 AND j.supervisor = i.owner))
"""

# The job's supervisor seat: free, this worker's already, or left by a worker whose lease ended.
_TAKE_SEAT = """
UPDATE vzaps_jobs j SET supervisor = $2
WHERE j.name = $1 AND (j.supervisor IS NULL OR j.supervisor = $2 OR NOT EXISTS (
    SELECT 1 FROM vzaps_workers w
    WHERE w.job = $1 AND w.id = j.supervisor AND w.expires_at > now()))
RETURNING 1
"""

# Every instance that connected once and is still in play, for the job's supervisor. A
# re-pair (PAIRING) a live worker runs stays that worker's; the connected ones are finished
# for onboarding, whoever last held them, and the new epoch fences off any late write of theirs.
_CLAIM_SUPERVISED = """
UPDATE vzaps_instances i SET owner = $2, epoch = i.epoch + 1
WHERE i.job = $1 AND i.state IN ('CONNECTED', 'DISCONNECTED', 'STALLED', 'PAIRING')
  AND i.record IS NOT NULL AND (i.record::jsonb ->> 'connected_at') IS NOT NULL
  AND (i.state <> 'PAIRING' OR i.owner IS NULL OR i.owner = $2 OR NOT EXISTS (
      SELECT 1 FROM vzaps_workers o
      WHERE o.job = i.job AND o.id = i.owner AND o.expires_at > now()))
RETURNING i.name, i.epoch, i.record
"""

_CHANNEL = "vzaps_cooldown"


def _canonical(spec: InstanceSpec) -> str:
    try:
        return json.dumps(
            {
                "name": spec.name,
                "phone": spec.phone,
                "method": spec.method,
                "create_options": dict(spec.create_options),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
    except TypeError as exc:
        raise InputError("create_options", f"{spec.name}: not JSON-serialisable ({exc})") from exc


def _spec(text: str) -> InstanceSpec:
    data = json.loads(text)
    return InstanceSpec(
        data["name"],
        phone=data.get("phone"),
        method=data.get("method", "qr"),
        create_options=data.get("create_options") or {},
    )


def _location(dsn: str, job: str) -> str:
    # The DSN may carry a password: errors and logs name only host, port and database.
    parts = urlsplit(dsn)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{host}{port}{parts.path} job {job!r}"


# What a database or network failure looks like from asyncpg (its classes are imported lazily).
def _db_errors() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CannotConnectNowError,
        # A reconnection refused (the database restarting, a login briefly disabled) is the
        # database being away too, not a bug to stop for.
        asyncpg.exceptions.InvalidAuthorizationSpecificationError,
        asyncpg.exceptions.TooManyConnectionsError,
    )


async def _keep_session(_conn: Any) -> None:
    """What a connection given back to the pool needs beyond asyncpg's rollback: nothing.

    asyncpg's default reset sends ``RESET ALL; UNLISTEN *; CLOSE ALL; ...`` after every
    statement run on the pool: a second round trip for each one. The journal sets no session
    state (no SET, no session advisory lock, no cursor) and UNLISTENs before it gives its
    listening connection back, so there is nothing to undo.
    """


@attrs.frozen
class WorkerStatus:
    """One worker run of a job, as `PostgresJournal.status` reports it.

    Args:
        id: The worker id (host, pid and a random part).
        host: Its host name.
        pid: Its process id.
        started_at: When it joined (epoch seconds).
        heartbeat_at: Its last heartbeat (epoch seconds).
        alive: Whether its lease is still live.
        instances: Instances it brought to CONNECTED.
    """

    id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    alive: bool
    instances: int


@attrs.frozen
class JobStatus:
    """A shared job seen from any machine.

    Args:
        job: The job name.
        states: Instances per state.
        workers: Every worker run that joined, oldest first.
        failures: ``(name, reason)`` of every FAILED instance.
        cooldown: Seconds left of the job-wide 429 pause (0 when none).
    """

    job: str
    states: Mapping[State, int]
    workers: tuple[WorkerStatus, ...]
    failures: tuple[tuple[str, str], ...]
    cooldown: float = 0.0

    @property
    def total(self) -> int:
        """Instances in the job."""
        return sum(self.states.values())

    def to_json(self) -> dict[str, Any]:
        """The status as JSON-ready data (``states``, ``workers``, ``failures``)."""
        return {
            "job": self.job,
            "total": self.total,
            "states": {state.value: n for state, n in self.states.items()},
            "workers": [attrs.asdict(worker) for worker in self.workers],
            "failures": [{"name": name, "reason": reason} for name, reason in self.failures],
            "cooldown": round(self.cooldown, 3),
        }


@attrs.define
class _Held:
    epoch: int
    lease: anyio.CancelScope


class PostgresJournal:
    """A journal in PostgreSQL whose job is shared by every worker that opens it.

    Several processes (on several machines) running ``Fleet(client, PostgresJournal(dsn,
    job=...), specs).run()`` share the job: each adds the specs (by name, idempotently), claims
    instances in batches under a lease, and returns when the job has nothing left it can do.

    Use as ``async with PostgresJournal(dsn, job="shops-2026-12") as journal``.

    Args:
        dsn: ``postgresql://user[:password]@host:port/database`` (the schema is created and
            migrated on open; the user needs CREATE on the database the first time).
        job: The job name every worker of the job passes.
        lease_seconds: How long a worker's claim outlives its last heartbeat; after that any
            other worker takes its instances over. Calls for an instance stop a third of it
            before that, on this worker's clock.
        claim_batch: Instances claimed in one round trip at most (never more than the fleet
            has idle slots for).
        requests_per_second: A request-rate budget for the whole job: each live worker gets an
            equal share, adjusted at every heartbeat as workers join and leave. None: only
            each fleet's own ``FleetOptions.requests_per_second`` applies.

    A fleet on this journal also shares its 429 cool-down with the job: a pause one worker
    sees is written to the job row and announced (NOTIFY) to every worker.
    """

    __slots__ = (
        "_budget",
        "_conn_label",
        "_dsn",
        "_group",
        "_heard_by",
        "_held",
        "_host",
        "_job",
        "_join_lock",
        "_joined",
        "_lease",
        "_listener",
        "_lost",
        "_pool",
        "_rate",
        "_renewed",
        "_tasks",
        "_valid_until",
        "_worker",
        "claim_batch",
        "location",
        "round_trips",
    )

    def __init__(
        self,
        dsn: str,
        *,
        job: str,
        lease_seconds: float = 30.0,
        claim_batch: int = 50,
        requests_per_second: float | None = None,
    ) -> None:
        if not job or len(job) > 200:
            raise InputError("job", f"must be 1-200 characters, got {job!r}")
        if lease_seconds <= 0:
            raise InputError("lease_seconds", f"must be > 0, got {lease_seconds!r}")
        if claim_batch < 1:
            raise InputError("claim_batch", f"must be at least 1, got {claim_batch!r}")
        if requests_per_second is not None and requests_per_second <= 0:
            raise InputError(
                "requests_per_second", f"must be > 0 (or None), got {requests_per_second!r}"
            )
        self._dsn = dsn
        self._job = job
        self._lease = float(lease_seconds)
        self.claim_batch = claim_batch
        self._budget = requests_per_second
        self._rate: RateLimiter | None = None
        self._tasks: Any = None
        self.location = _location(dsn, job)
        self._host = socket.gethostname()
        base = f"{self._host}:{os.getpid()}:{secrets.token_hex(3)}"
        self._conn_label = f"vzaps-async {base}"
        self._worker = base
        self._pool: Any = None
        self._listener: Any = None
        self._heard_by: CoolDown | None = None
        self._held: dict[str, _Held] = {}
        self._lost: set[str] = set()
        self._joined = False
        self._join_lock = anyio.Lock()
        self._valid_until = 0.0
        # Set when the lease is extended: wakes the watchdog after it stopped everything held.
        self._renewed = anyio.Event()
        self._group: GroupCommit[tuple[str, int, str, str, str | None]] = GroupCommit(
            self._write_or_lose
        )
        #: Statements sent to the database so far (benchmarks report it per instance).
        self.round_trips = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def job(self) -> str:
        """The job name."""
        return self._job

    @property
    def worker_id(self) -> str:
        """This worker's id in the job (a new one after its lease was lost)."""
        return self._worker

    @property
    def application_name(self) -> str:
        """The ``application_name`` of this journal's database connections."""
        return self._conn_label

    async def open(self) -> PostgresJournal:
        """Connect, create or migrate the schema; return self.

        The journal joins the job as a worker only when it first claims or writes (reading the
        status, say, is not taking part).
        """
        try:
            import asyncpg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise JournalError(
                self.location, "PostgresJournal needs asyncpg: pip install 'vzaps-async[postgres]'"
            ) from exc
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=4,
                # A partitioned database must not hold a save (or a claim) forever: the lease
                # runs out meanwhile anyway.
                command_timeout=self._lease / 3,
                server_settings={"application_name": self._conn_label},
                reset=_keep_session,
            )
            async with self._pool.acquire() as conn:
                await self._migrate(conn)
                await conn.execute(
                    "INSERT INTO vzaps_jobs (name) VALUES ($1) ON CONFLICT DO NOTHING", self._job
                )
        except (*_db_errors(), asyncpg.PostgresError) as exc:
            await self.aclose()
            raise JournalError(self.location, f"cannot open: {type(exc).__name__}: {exc}") from exc
        return self

    async def __aenter__(self) -> PostgresJournal:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Give back every instance still held, leave the job, close the connections."""
        if self._pool is None:
            return
        with anyio.CancelScope(shield=True):
            await self._group.idle()  # a group being written lands before the give-back
            if self._group.pending:
                # Saves whose callers were cancelled while waiting for a group ride on the last
                # one; a write refused or failing here loses nothing a lease does not cover.
                with contextlib.suppress(*_db_errors()):
                    await self._commit()
            pool, self._pool = self._pool, None
            try:
                if self._listener is not None:
                    listener, self._listener = self._listener, None
                    await listener.remove_listener(_CHANNEL, self._heard)
                    await pool.release(listener)
                async with pool.acquire() as conn:
                    await conn.execute(
                        "UPDATE vzaps_instances SET owner = NULL WHERE job = $1 AND owner = $2",
                        self._job,
                        self._worker,
                    )
                    # Expired now: its instances need no wait to be taken over.
                    await conn.execute(
                        "UPDATE vzaps_workers SET expires_at = now() WHERE job = $1 AND id = $2",
                        self._job,
                        self._worker,
                    )
            except _db_errors():
                log.warning("%s: could not leave the job cleanly", self.location)
            finally:
                self._held.clear()
                pool.terminate()

    def _connections(self) -> Any:
        if self._pool is None:
            raise RuntimeError("PostgresJournal is not open; use 'async with PostgresJournal(...)'")
        return self._pool

    async def _migrate(self, conn: Any) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS vzaps_schema (version integer NOT NULL)")
            version = await conn.fetchval("SELECT max(version) FROM vzaps_schema") or 0
            if version > len(_MIGRATIONS):
                raise JournalError(
                    self.location,
                    f"the schema is version {version}, newer than this vzaps-async knows "
                    f"({len(_MIGRATIONS)}); upgrade vzaps-async",
                )
            for number, sql in enumerate(_MIGRATIONS[version:], start=version + 1):
                await conn.execute(sql)
                await conn.execute("INSERT INTO vzaps_schema (version) VALUES ($1)", number)

    async def _join(self) -> None:
        async with self._join_lock:
            if not self._joined:
                await self._register()
                self._joined = True

    async def _register(self) -> None:
        sent = anyio.current_time()
        await self._fetch(
            "INSERT INTO vzaps_workers (job, id, host, pid, expires_at) "
            "VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
            self._job,
            self._worker,
            self._host,
            os.getpid(),
            self._lease,
        )
        self._extend(sent)

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        self.round_trips += 1
        return list(await self._connections().fetch(sql, *args))

    async def _read(self, sql: str, *args: Any) -> list[Any]:
        """A read (safe to repeat): a lost connection is retried for up to one lease."""
        errors = _db_errors()
        give_up = anyio.current_time() + self._lease
        delay = 0.05
        while True:
            try:
                return await self._fetch(sql, *args)
            except errors as exc:
                if anyio.current_time() + delay > give_up:
                    raise JournalError(
                        self.location, f"the database is unreachable: {type(exc).__name__}: {exc}"
                    ) from exc
                await anyio.sleep(delay)
                delay = min(1.0, delay * 2)

    # ------------------------------------------------------------------ the journal protocol

    async def load_all(self) -> list[Snapshot]:
        """Return every snapshot saved in the job."""
        if self._group.pending:
            await self._commit()
        rows = await self._read(
            "SELECT name, record FROM vzaps_instances "
            "WHERE job = $1 AND record IS NOT NULL ORDER BY seq",
            self._job,
        )
        return [_decode(self.location, name, record) for name, record in rows]

    async def get(self, name: str) -> Snapshot | None:
        """Return the snapshot saved for ``name`` in the job, or None.

        Args:
            name: The instance name.
        """
        if self._group.pending:
            await self._commit()
        rows = await self._read(
            "SELECT record FROM vzaps_instances WHERE job = $1 AND name = $2", self._job, name
        )
        if not rows or rows[0][0] is None:
            return None
        return _decode(self.location, name, rows[0][0])

    async def save(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` under this worker's lease; returns once it is committed (with
        whatever else was saving meanwhile: one statement per group).

        Args:
            snapshot: The snapshot to store.

        Raises:
            LeaseLostError: The lease on the instance was lost; nothing was written.
        """
        self._connections()
        name = snapshot.name
        held = self._held.get(name)
        if held is None:
            await self._claim_on_write(snapshot)
            return
        self._group.pending[name] = (
            name,
            held.epoch,
            snapshot.state.value,
            _json.dumps(snapshot_to_record(snapshot)).decode(),
            snapshot.failure,
        )
        await self._commit()
        if self._held.get(name) is not held:
            raise LeaseLostError(self.location, name)

    async def _commit(self) -> None:
        """Return once every record pending when called is written or refused (group commit)."""
        await self._group.commit()

    async def _write_or_lose(self, batch: list[tuple[str, int, str, str, str | None]]) -> None:
        written = await self._write(batch)
        for row in batch:
            if row[0] not in written:
                self._lose(row[0])

    async def _write(self, batch: list[tuple[str, int, str, str, str | None]]) -> set[str]:
        """Write one group; the names written. Retries a lost connection until the lease ends."""
        columns = list(zip(*batch, strict=True))
        while True:
            try:
                rows = await self._fetch(_WRITE, self._job, self._worker, *map(list, columns))
                return {row[0] for row in rows}
            except _db_errors() as exc:
                if anyio.current_time() >= self._valid_until:
                    log.warning("%s: writes failing past the lease (%s)", self.location, exc)
                    return set()
                log.info("%s: write failed (%s); retrying", self.location, type(exc).__name__)
                await anyio.sleep(0.05)

    async def _claim_on_write(self, snapshot: Snapshot) -> None:
        name = snapshot.name
        if name in self._lost:
            raise LeaseLostError(self.location, name)
        await self._join()
        spec = InstanceSpec(name, phone=snapshot.phone, method=snapshot.method)
        rows = await self._fetch(
            _CLAIM_ON_WRITE,
            self._job,
            self._worker,
            name,
            _canonical(spec),
            snapshot.state.value,
            _json.dumps(snapshot_to_record(snapshot)).decode(),
            snapshot.failure,
        )
        if not rows:
            self._lost.add(name)
            raise LeaseLostError(self.location, name)
        self._held[name] = _Held(rows[0][0], anyio.CancelScope())

    def _lose(self, name: str) -> None:
        held = self._held.pop(name, None)
        self._lost.add(name)
        if held is not None:
            log.warning("%s: lease on %s lost; stopping every call for it", self.location, name)
            held.lease.cancel()

    def _lose_all(self) -> None:
        for name in list(self._held):
            self._lose(name)

    def _extend(self, sent: float) -> None:
        """A renewal sent at ``sent`` succeeded: every held instance may run until its end."""
        self._valid_until = max(self._valid_until, sent + self._lease * 2 / 3)
        # Even when this renewal ends no later: instances just claimed on it may have to be
        # stopped at once, and the watchdog, having stopped everything, waits for this.
        self._renewed.set()

    async def _watch_lease(self) -> None:
        """Cancel every held instance's scope once the lease ends on this clock.

        One timer for the whole worker: a deadline on each instance's scope would have to be
        moved for every held instance at every renewal and claim, one event-loop timer each
        (see benchmarks/results/2026-12-01-postgres-journal).
        """
        while True:
            until = self._valid_until
            if anyio.current_time() < until:
                await anyio.sleep_until(until)
                continue
            for held in self._held.values():
                held.lease.cancel()
            # Instances claimed from now on wait for a renewal to tell whether they may run.
            self._renewed = anyio.Event()
            await self._renewed.wait()

    # ------------------------------------------------------------------ sharing

    def supervision(self, gates: Gates) -> contextlib.AbstractAsyncContextManager[list[Watched]]:
        """Take the job's supervisor seat and hold every instance that connected once.

        One supervisor per job: the seat is this worker's for as long as its lease lives
        (renewed by the heartbeat while the block runs), and a second supervisor is refused
        at once. Each instance is claimed like a fleet's (a new epoch, so nobody else's writes
        land) and watched inside a cancel scope that the journal cancels when the lease is
        lost; when the block ends, the seat and the instances are given back.

        Args:
            gates: The supervisor's limits: its cool-down is shared with the job.

        Raises:
            JournalLockedError: Another live supervisor holds the job's seat (named).
        """
        return self._supervise(gates)

    @contextlib.asynccontextmanager
    async def _supervise(self, gates: Gates) -> AsyncIterator[list[Watched]]:
        self._connections()
        await self._join()
        # A worker whose fleet has just ended (onboard --supervise) may have let its lease lapse.
        if not await self._fetch(_RENEW, self._job, self._worker, self._lease):
            self._worker = f"{self._conn_label.split(' ', 1)[1]}:{secrets.token_hex(2)}"
            await self._register()
        if not await self._fetch(_TAKE_SEAT, self._job, self._worker):
            rows = await self._read(
                "SELECT w.id, w.host, w.pid, w.started_at FROM vzaps_jobs j "
                "JOIN vzaps_workers w ON w.job = j.name AND w.id = j.supervisor "
                "WHERE j.name = $1",
                self._job,
            )
            holder = (
                f"the supervisor {rows[0][0]} (pid {rows[0][2]} on {rows[0][1]} since "
                f"{rows[0][3]:%Y-%m-%d %H:%M:%S %Z})"
                if rows
                else "another supervisor"
            )
            raise JournalLockedError(self.location, holder)
        try:
            sent = anyio.current_time()
            rows = await self._fetch(_CLAIM_SUPERVISED, self._job, self._worker)
            self._extend(sent)
            held: list[Watched] = []
            for name, epoch, record in rows:
                lease = anyio.CancelScope()  # cancelled by `_watch_lease` when the lease ends
                self._held[name] = _Held(epoch, lease)
                self._lost.discard(name)
                snapshot = _decode(self.location, name, record)
                if is_supervised(snapshot):  # the SQL filter cannot see the instance id
                    held.append((snapshot, lease))
            async with anyio.create_task_group() as tg:
                self._tasks = tg
                tg.start_soon(self._heartbeat)
                tg.start_soon(self._watch_lease)
                await self._listen(gates.cooldown)
                try:
                    yield held
                finally:
                    gates.cooldown.on_pause = None
                    self._heard_by = None
                    self._tasks = None
                    tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(*_db_errors()):
                await self._group.idle()  # a group being written lands before the give-back
                if self._group.pending:
                    await self._commit()
                # Given back at once: a re-pair left PAIRING is onboarding's to finish now.
                await self._fetch(
                    "UPDATE vzaps_instances SET owner = NULL WHERE job = $1 AND owner = $2",
                    self._job,
                    self._worker,
                )
                await self._fetch(
                    "UPDATE vzaps_jobs SET supervisor = NULL WHERE name = $1 AND supervisor = $2",
                    self._job,
                    self._worker,
                )
                self._held.clear()

    def work(
        self, specs: Sequence[InstanceSpec], gates: Gates
    ) -> contextlib.AbstractAsyncContextManager[Work]:
        """Add ``specs`` to the job (by name, idempotently), then hand out claimed instances.

        Args:
            specs: Instances to add; empty to join the job as it is.
            gates: The fleet's limits: its cool-down is shared with the job, and its rate
                limit becomes this worker's share of the job's budget (when one is set).

        Raises:
            InputError: A spec has the name of an instance of the job with other fields.
        """
        return self._work(specs, gates)

    @contextlib.asynccontextmanager
    async def _work(self, specs: Sequence[InstanceSpec], gates: Gates) -> AsyncIterator[Work]:
        self._connections()
        await self._add_specs(specs)
        await self._join()
        if self._budget is not None:
            if gates.rate is None:
                gates.rate = RateLimiter(self._budget)
            self._rate = gates.rate
            await self._share_budget()
        async with anyio.create_task_group() as tg:
            self._tasks = tg
            tg.start_soon(self._heartbeat)
            tg.start_soon(self._watch_lease)
            await self._listen(gates.cooldown)
            try:
                yield _SharedWork(self, await self._open_count())
            finally:
                gates.cooldown.on_pause = None
                self._heard_by = None
                self._tasks = None
                tg.cancel_scope.cancel()

    async def _add_specs(self, specs: Sequence[InstanceSpec]) -> None:
        if not specs:
            return
        names = [spec.name for spec in specs]
        texts = [_canonical(spec) for spec in specs]
        async with self._connections().acquire() as conn, conn.transaction():
            self.round_trips += 2
            await conn.execute(
                "INSERT INTO vzaps_instances (job, name, spec) "
                "SELECT $1, s.name, s.spec FROM unnest($2::text[], $3::text[]) AS s(name, spec) "
                "ON CONFLICT (job, name) DO NOTHING",
                self._job,
                names,
                texts,
            )
            # Compared here rather than joined in SQL: a join against the unnested input is
            # planned for a hundred rows and scans the table once per name of a large input,
            # while `name = ANY(...)` is one walk of the primary key.
            stored = await conn.fetch(
                "SELECT name, spec FROM vzaps_instances WHERE job = $1 AND name = ANY($2::text[])",
                self._job,
                names,
            )
            wanted = dict(zip(names, texts, strict=True))
            clash = min(
                ((name, spec) for name, spec in stored if spec != wanted[name]), default=None
            )
            if clash is not None:
                # Raised inside the transaction: nothing of this input is added.
                raise InputError(
                    "specs",
                    f"{clash[0]}: the job {self._job!r} already has an instance of this "
                    f"name with other fields ({clash[1]}); pass the same input as the "
                    "workers already running, or start another job",
                )

    async def _open_count(self) -> int:
        rows = await self._read(
            f"SELECT count(*) FROM vzaps_instances WHERE job = $1 AND {_UNFINISHED}", self._job
        )
        return int(rows[0][0])

    async def _heartbeat(self) -> None:
        """Renew the lease every sixth of it; when it cannot, every held instance stops."""
        errors = _db_errors()
        while True:
            await anyio.sleep(self._lease / 6)
            sent = anyio.current_time()
            # Not cancelled at the lease's end (asyncpg does not take a cancelled query well):
            # the lease watchdog stops the instances on time; this only notices.
            try:
                renewed = bool(await self._fetch(_RENEW, self._job, self._worker, self._lease))
            except errors as exc:
                log.warning("%s: heartbeat failed (%s)", self.location, type(exc).__name__)
                if anyio.current_time() < self._valid_until:
                    continue
                renewed = False
            if renewed:
                self._extend(sent)
                if self._group.pending:
                    # Saves left by cancelled callers wait at most one heartbeat.
                    with contextlib.suppress(*errors):
                        await self._commit()
                if self._rate is not None:
                    with contextlib.suppress(*errors):
                        await self._share_budget()
                continue
            # Expired (in the database, or on this clock before an answer came): whatever was
            # held may already belong to another worker. Rejoin under a new id.
            self._lose_all()
            self._worker = f"{self._conn_label.split(' ', 1)[1]}:{secrets.token_hex(2)}"
            log.warning("%s: lease lost; rejoining as %s", self.location, self._worker)
            with contextlib.suppress(*errors):
                await self._register()

    async def _share_budget(self) -> None:
        """This worker's equal share of the job's request budget, among the live workers."""
        assert self._budget is not None
        assert self._rate is not None
        rows = await self._read(
            "SELECT count(*) FROM vzaps_workers WHERE job = $1 AND expires_at > now()", self._job
        )
        self._rate.rate = self._budget / max(1, int(rows[0][0]))

    async def _claim(self, tried: set[str], wanted: int) -> list[Claim]:
        sent = anyio.current_time()
        limit = min(self.claim_batch, wanted)
        rows = await self._fetch(_CLAIM, self._job, self._worker, self._lease, limit, list(tried))
        if not rows:
            return []
        self._extend(sent)
        claims = []
        for name, epoch, spec, record in rows:
            lease = anyio.CancelScope()
            self._held[name] = _Held(epoch, lease)
            self._lost.discard(name)
            snapshot = _decode(self.location, name, record) if record else None
            claims.append(Claim(_spec(spec), snapshot, lease))
        return claims

    async def _others_busy(self, tried: set[str]) -> bool:
        rows = await self._fetch(_OTHERS_BUSY, self._job, self._worker, list(tried))
        return bool(rows[0][0])

    async def _release(self, name: str) -> None:
        held = self._held.pop(name, None)
        if held is None:
            return
        # Best effort: a row not given back is taken over anyway once this lease expires.
        with contextlib.suppress(*_db_errors()):
            await self._fetch(
                "UPDATE vzaps_instances SET owner = NULL "
                "WHERE job = $1 AND name = $2 AND owner = $3 AND epoch = $4",
                self._job,
                name,
                self._worker,
                held.epoch,
            )

    async def _uncreated(self) -> set[str]:
        rows = await self._read(
            "SELECT name FROM vzaps_instances WHERE job = $1 AND state = $2",
            self._job,
            State.PLANNED.value,
        )
        return {row[0] for row in rows}

    async def job_counts(self) -> dict[State, int]:
        """Instances per state in the whole job."""
        if self._group.pending:
            await self._commit()
        rows = await self._read(
            "SELECT state, count(*) FROM vzaps_instances WHERE job = $1 GROUP BY state", self._job
        )
        return {State(state): int(n) for state, n in rows}

    async def status(self) -> JobStatus:
        """The job as a whole: states, workers and failures (what ``fleet status`` prints)."""
        states = await self.job_counts()
        workers = await self._read(
            "SELECT w.id, w.host, w.pid, extract(epoch FROM w.started_at), "
            "extract(epoch FROM w.heartbeat_at), w.expires_at > now(), "
            "(SELECT count(*) FROM vzaps_instances i WHERE i.job = w.job AND i.done_by = w.id) "
            "FROM vzaps_workers w WHERE w.job = $1 ORDER BY w.started_at, w.id",
            self._job,
        )
        failures = await self._read(
            "SELECT name, coalesce(failure, '') FROM vzaps_instances "
            "WHERE job = $1 AND state = 'FAILED' ORDER BY seq",
            self._job,
        )
        cooldown = await self._read(
            "SELECT greatest(0, extract(epoch FROM cooldown_until - now()))::float8 "
            "FROM vzaps_jobs WHERE name = $1",
            self._job,
        )
        return JobStatus(
            job=self._job,
            states=states,
            workers=tuple(
                WorkerStatus(
                    id=row[0],
                    host=row[1],
                    pid=int(row[2]),
                    started_at=float(row[3]),
                    heartbeat_at=float(row[4]),
                    alive=bool(row[5]),
                    instances=int(row[6]),
                )
                for row in workers
            ),
            failures=tuple((row[0], row[1]) for row in failures),
            cooldown=float(cooldown[0][0]) if cooldown else 0.0,
        )

    async def exists(self) -> bool:
        """Whether the job has any instance (a worker joining without specs needs one)."""
        rows = await self._read(
            "SELECT EXISTS (SELECT 1 FROM vzaps_instances WHERE job = $1)", self._job
        )
        return bool(rows[0][0])

    # ------------------------------------------------------------------ the job-wide cool-down

    async def _listen(self, cooldown: CoolDown) -> None:
        """Share ``cooldown``: its pauses go to the job row, the job's pauses close it."""
        self._heard_by = cooldown
        if self._listener is None:
            self._listener = await self._connections().acquire()
            await self._listener.add_listener(_CHANNEL, self._heard)
        # A pause set by a worker before this one joined still holds.
        rows = await self._read(
            "SELECT greatest(0, extract(epoch FROM cooldown_until - now()))::float8 "
            "FROM vzaps_jobs WHERE name = $1",
            self._job,
        )
        if rows and rows[0][0] > 0:
            cooldown.pause(float(rows[0][0]), share=False)
        cooldown.on_pause = self._share_pause

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        job, _, seconds = payload.rpartition(" ")
        if job == self._job and self._heard_by is not None:
            self._heard_by.pause(float(seconds), share=False)

    def _share_pause(self, seconds: float) -> None:
        if self._tasks is not None:
            self._tasks.start_soon(self._announce_pause, seconds)

    async def _announce_pause(self, seconds: float) -> None:
        with contextlib.suppress(*_db_errors()):
            await self._fetch(
                "WITH j AS (UPDATE vzaps_jobs SET cooldown_until = greatest(cooldown_until, "
                "now() + make_interval(secs => $2)) WHERE name = $1) "
                "SELECT pg_notify($3, $1 || ' ' || $2::text)",
                self._job,
                float(seconds),
                _CHANNEL,
            )


class _SharedWork:
    """What one worker onboards of a shared job: claimed batches, until nothing is left."""

    __slots__ = (
        "_buffer",
        "_done",
        "_journal",
        "_refill",
        "_size",
        "_tried",
        "_waiting",
        "counts",
    )

    def __init__(self, journal: PostgresJournal, size: int) -> None:
        self._journal = journal
        self._size = size
        self._buffer: deque[Claim] = deque()
        self._refill = anyio.Lock()
        self._done = False
        # Instances this run gave back unfinished: it does not take them again.
        self._tried: set[str] = set()
        # The fleet's tasks now asking for work: a claim takes no more than they can start, so
        # a worker never sits on instances that other workers could be onboarding.
        self._waiting = 0
        self.counts: Counter[State] = Counter()

    @property
    def size(self) -> int:
        """Unfinished instances of the job when this run joined."""
        return self._size

    async def claim(self) -> Claim | None:
        """The next claimed instance; waits while other live workers hold unfinished ones."""
        self._waiting += 1
        try:
            return await self._next()
        finally:
            self._waiting -= 1

    async def _next(self) -> Claim | None:
        journal = self._journal
        while not self._done:
            if self._buffer:
                return self._buffer.popleft()
            async with self._refill:
                if self._buffer or self._done:
                    continue
                try:
                    claims = await journal._claim(self._tried, self._waiting)
                    if not claims and journal._group.pending:
                        # Other workers wait for what this one finished: write it first.
                        await journal._commit()
                    busy = bool(claims) or await journal._others_busy(self._tried)
                except _db_errors() as exc:
                    # The database is away: wait for it (the heartbeat handles the lease).
                    log.info("%s: claim failed (%s)", journal.location, type(exc).__name__)
                    await anyio.sleep(min(1.0, journal._lease / 6))
                    continue
                if claims:
                    for claim in claims:
                        self.counts[
                            claim.snapshot.state if claim.snapshot is not None else State.PLANNED
                        ] += 1
                    self._buffer.extend(claims)
                    continue
                # Nothing free: done unless another worker still holds unfinished instances
                # (its lease may yet run out, and then they are ours to finish).
                if not busy:
                    self._done = True
                    break
                await anyio.sleep(min(1.0, journal._lease / 6))
        return None

    async def release(self, claim: Claim, final: Snapshot | None) -> None:
        """Give back an instance left unfinished (another worker may take it); keep the rest.

        Args:
            claim: What `claim` handed out.
            final: Its last snapshot, or None when the lease was lost.
        """
        name = claim.spec.name
        if final is not None and final.terminal:
            self._journal._held.pop(name, None)
            return
        if final is not None:
            self._tried.add(name)
        # Lost on this clock while the database may still count it as ours: give it back so
        # that any worker (this one included) can claim it without waiting for the lease.
        await self._journal._release(name)

    async def uncreated(self) -> set[str]:
        """Unfinished instances of the job with no instance id in their record."""
        return await self._journal._uncreated()

    async def job_counts(self) -> Mapping[State, int]:
        """Instances per state in the whole job."""
        return await self._journal.job_counts()
