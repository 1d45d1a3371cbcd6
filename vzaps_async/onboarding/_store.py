"""Journals: where snapshots survive a crash.

The journal is the driver's memory across restarts. The hard rules of onboarding depend on it:
a create or subscribe intent is saved *before* the call, and the instance token right after create
returns, so a process killed at any instant leaves a record that tells the next run what to
reconcile. Every `save` is atomic per record and durable when it returns.

`SQLiteJournal` commits in groups: saves that arrive while a commit is running are written
together by the next commit, so thousands of concurrent onboardings share fsyncs without any save
returning before its own record is on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio
import attrs

from vzaps_async._secret import Secret

from ._state import Snapshot, State

if TYPE_CHECKING:
    from ._driver import Gates
    from ._fleet import InstanceSpec

__all__ = [
    "Claim",
    "Journal",
    "LocalWork",
    "MemoryJournal",
    "SQLiteJournal",
    "Work",
    "snapshot_from_record",
    "snapshot_to_record",
]

# Fields written as-is (ints, floats, strings, bools, None). The QR data URL is deliberately not
# journaled: it is only useful while it is on screen, and it is the largest field by far.
_PLAIN_FIELDS = (
    "instance_id",
    "method",
    "phone",
    "intent",
    "intent_at",
    "create_attempts",
    "subscribe_attempts",
    "qr_rotations",
    "pairing_restarts",
    "pair_code",
    "code_expires_at",
    "subscribed",
    "failure",
    "planned_at",
    "created_at",
    "updated_at",
    "connected_at",
)


def snapshot_to_record(snapshot: Snapshot) -> dict[str, Any]:
    """Return the JSON-ready record of a snapshot, token included as plain text.

    Args:
        snapshot: The snapshot to store.
    """
    record: dict[str, Any] = {"name": snapshot.name, "state": snapshot.state.value}
    for field in _PLAIN_FIELDS:
        record[field] = getattr(snapshot, field)
    record["token"] = snapshot.token.reveal() if snapshot.token is not None else None
    return record


def snapshot_from_record(record: dict[str, Any]) -> Snapshot:
    """Rebuild a snapshot from `snapshot_to_record` output (unknown keys are ignored).

    Args:
        record: The stored record.
    """
    values = {field: record[field] for field in _PLAIN_FIELDS if field in record}
    token = record.get("token")
    return Snapshot(
        name=record["name"],
        state=State(record["state"]),
        token=Secret(token) if token else None,
        **values,
    )


@attrs.frozen
class Claim:
    """One instance a journal hands to a fleet to onboard.

    Args:
        spec: What to onboard.
        snapshot: Its journaled snapshot, or None when nothing was saved yet.
        lease: None when the instance is the fleet's for the whole run (a local journal); for a
            shared job, the cancel scope to run it in: the journal cancels it the moment the
            lease on the instance is lost, which stops every call for it at once.
    """

    spec: InstanceSpec
    snapshot: Snapshot | None
    lease: anyio.CancelScope | None = None


class Work(Protocol):
    """What a fleet onboards in one run: the journal hands out instances and takes them back."""

    #: Instances handed out (or about to be) and not running, per state; the fleet updates it.
    counts: Counter[State]

    @property
    def size(self) -> int:
        """Instances this run may be handed at most (how many onboardings to run at once)."""
        ...

    async def claim(self) -> Claim | None:
        """The next instance to onboard, or None when there is nothing left this run can do."""
        ...

    async def release(self, claim: Claim, final: Snapshot | None) -> None:
        """Give back an instance the fleet is done with.

        Args:
            claim: What `claim` handed out.
            final: Its last snapshot, or None when its lease was lost.
        """
        ...

    async def job_counts(self) -> Mapping[State, int] | None:
        """Instances per state in the whole shared job, or None for a journal one run owns."""
        ...


class LocalWork:
    """The work of a journal that one fleet owns: every spec, resumed from its snapshot.

    Args:
        specs: The fleet's instances.
        known: Journaled snapshots by name (entries are removed as they are handed out).
    """

    __slots__ = ("_known", "_pending", "_size", "counts")

    def __init__(self, specs: Sequence[InstanceSpec], known: dict[str, Snapshot]) -> None:
        self._known = known
        self._pending = iter(specs)
        self._size = len(specs)
        self.counts: Counter[State] = Counter(
            known[s.name].state if s.name in known else State.PLANNED for s in specs
        )

    @property
    def size(self) -> int:
        """The number of specs."""
        return self._size

    async def claim(self) -> Claim | None:
        """The next spec with its snapshot, or None after the last."""
        # Safe to share between the fleet's tasks: nothing here yields to the event loop.
        spec = next(self._pending, None)
        if spec is None:
            return None
        return Claim(spec, self._known.pop(spec.name, None))

    async def release(self, claim: Claim, final: Snapshot | None) -> None:
        """Nothing to give back: the journal already holds the final snapshot.

        Args:
            claim: What `claim` handed out.
            final: Its last snapshot.
        """

    async def job_counts(self) -> Mapping[State, int] | None:
        """None: the run is the whole job."""
        return None


@contextlib.asynccontextmanager
async def local_work(journal: Journal, specs: Sequence[InstanceSpec]) -> AsyncIterator[LocalWork]:
    """The `Journal.work` of a journal one run owns: load every snapshot once, then the specs.

    Args:
        journal: The journal.
        specs: The fleet's instances.
    """
    known = {snap.name: snap for snap in await journal.load_all()}
    yield LocalWork(specs, known)


@runtime_checkable
class Journal(Protocol):
    """Durable storage of snapshots, keyed by instance name."""

    async def load_all(self) -> list[Snapshot]:
        """Return every stored snapshot."""
        ...

    async def get(self, name: str) -> Snapshot | None:
        """Return the snapshot stored for ``name``, or None.

        Args:
            name: The instance name.
        """
        ...

    async def save(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` (replacing the record of its name) atomically and durably.

        Args:
            snapshot: The snapshot to store.
        """
        ...

    async def aclose(self) -> None:
        """Release the storage; later calls are errors."""
        ...

    def work(
        self, specs: Sequence[InstanceSpec], gates: Gates
    ) -> contextlib.AbstractAsyncContextManager[Work]:
        """What a fleet with these specs onboards, for the length of one run.

        Args:
            specs: The fleet's instances (a shared job adds them to the job).
            gates: The fleet's limits (a shared job shares its 429 cool-down and rate budget).
        """
        ...


class MemoryJournal:
    """A journal in a dict: for tests and for runs that need no resume."""

    __slots__ = ("_records",)

    def __init__(self) -> None:
        self._records: dict[str, Snapshot] = {}

    async def load_all(self) -> list[Snapshot]:
        """Return every stored snapshot."""
        return list(self._records.values())

    async def get(self, name: str) -> Snapshot | None:
        """Return the snapshot stored for ``name``, or None.

        Args:
            name: The instance name.
        """
        return self._records.get(name)

    async def save(self, snapshot: Snapshot) -> None:
        """Store ``snapshot``.

        Args:
            snapshot: The snapshot to store.
        """
        self._records[snapshot.name] = snapshot

    async def aclose(self) -> None:
        """Nothing to release."""

    def work(
        self, specs: Sequence[InstanceSpec], gates: Gates
    ) -> contextlib.AbstractAsyncContextManager[Work]:
        """Every spec, resumed from its snapshot (see `LocalWork`).

        Args:
            specs: The fleet's instances.
            gates: The fleet's limits (a journal one run owns leaves them alone).
        """
        return local_work(self, specs)

    async def __aenter__(self) -> MemoryJournal:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS onboarding ("
    " name TEXT PRIMARY KEY,"
    " state TEXT NOT NULL,"
    " record TEXT NOT NULL)"
)


def _create_private_file(path: Path) -> None:
    # The journal holds instance tokens: the file is created owner-only before SQLite opens it,
    # and an existing file is tightened. SQLite gives its -wal/-shm files the database's mode.
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class SQLiteJournal:
    """A journal in one SQLite file (WAL, synchronous=FULL, one transaction per commit group).

    Use as ``async with SQLiteJournal(path) as journal`` or call `open` / `aclose`.

    Args:
        path: The database file; created with mode 0600 when missing.
    """

    __slots__ = ("_conn", "_flushed", "_lock", "_path", "_pending", "_queued")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._conn: Any = None
        self._lock = anyio.Lock()
        self._pending: dict[str, tuple[str, str, str]] = {}
        self._queued = 0  # generation of the group now collecting saves
        self._flushed = -1  # last generation durably committed

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    async def open(self) -> SQLiteJournal:
        """Create or open the file and its table; return self."""
        import aiosqlite

        _create_private_file(self._path)
        conn = await aiosqlite.connect(self._path)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute(_SCHEMA)
        await conn.commit()
        self._conn = conn
        return self

    async def __aenter__(self) -> SQLiteJournal:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _connection(self) -> Any:
        if self._conn is None:
            raise RuntimeError("SQLiteJournal is not open; use 'async with SQLiteJournal(path)'")
        return self._conn

    async def load_all(self) -> list[Snapshot]:
        """Return every stored snapshot."""
        async with self._connection().execute("SELECT record FROM onboarding") as cursor:
            rows = await cursor.fetchall()
        return [snapshot_from_record(json.loads(row[0])) for row in rows]

    async def get(self, name: str) -> Snapshot | None:
        """Return the snapshot stored for ``name``, or None.

        Args:
            name: The instance name.
        """
        async with self._connection().execute(
            "SELECT record FROM onboarding WHERE name = ?", (name,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else snapshot_from_record(json.loads(row[0]))

    async def save(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` durably; returns once its commit group is on disk.

        Args:
            snapshot: The snapshot to store.
        """
        conn = self._connection()
        row = (snapshot.name, snapshot.state.value, json.dumps(snapshot_to_record(snapshot)))
        self._pending[snapshot.name] = row
        generation = self._queued
        async with self._lock:
            if self._flushed >= generation:
                return  # an earlier holder of the lock committed our record with its group
            batch = list(self._pending.values())
            self._pending.clear()
            self._queued += 1
            # Shielded: a cancelled saver must not abandon a commit others are waiting for.
            with anyio.CancelScope(shield=True):
                try:
                    await conn.executemany(
                        "INSERT INTO onboarding (name, state, record) VALUES (?, ?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET state = excluded.state, "
                        "record = excluded.record",
                        batch,
                    )
                    await conn.commit()
                except BaseException:
                    # Put the group back (newer saves of the same name win) for the next holder.
                    for row in batch:
                        self._pending.setdefault(row[0], row)
                    raise
            self._flushed = generation

    def work(
        self, specs: Sequence[InstanceSpec], gates: Gates
    ) -> contextlib.AbstractAsyncContextManager[Work]:
        """Every spec, resumed from its snapshot (see `LocalWork`).

        Args:
            specs: The fleet's instances.
            gates: The fleet's limits (a journal one run owns leaves them alone).
        """
        return local_work(self, specs)

    async def aclose(self) -> None:
        """Close the database."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with anyio.CancelScope(shield=True):
                await conn.close()
