"""Journals: where snapshots survive a crash.

The journal is the driver's memory across restarts. The hard rules of onboarding depend on it:
a create or subscribe intent is saved *before* the call, and the instance token right after create
returns, so a process killed at any instant leaves a record that tells the next run what to
reconcile. Every `save` is atomic per record and durable when it returns.

`SQLiteJournal` commits in groups: saves that arrive while a commit is running are written
together by the next commit, so thousands of concurrent onboardings share fsyncs without any save
returning before its own record is on disk. It has one writer at a time: `open` takes an
exclusive OS lock on a side file (``<journal>.lock``) for as long as the journal is open, so a
second run on the same file refuses at once instead of racing the first one's creates. The
kernel drops the lock when its process dies, however it dies, so a crashed run never leaves a
hold behind. Every way the file can be unusable (not a database, damaged, unreadable, read-only,
a full disk, a record that does not decode) is a `JournalError` naming the file and the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import operator
import os
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

import anyio
import attrs

from vzaps_async import _json
from vzaps_async._secret import Secret
from vzaps_async.errors import JournalError, JournalLockedError

from ._state import SUPERVISED_STATES, Snapshot, State

if TYPE_CHECKING:
    from ._driver import Gates
    from ._fleet import InstanceSpec

log = logging.getLogger("vzaps_async.onboarding")

T = TypeVar("T")
Row = TypeVar("Row")

__all__ = [
    "Claim",
    "GroupCommit",
    "Journal",
    "LocalWork",
    "MemoryJournal",
    "SQLiteJournal",
    "Watched",
    "Work",
    "is_supervised",
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
    "last_seen_connected_at",
    "trouble_since",
    "incident",
    "disconnects",
    "repairs",
    "restarts",
    "restarted_at",
    "repair_streak",
    "repaired_at",
    "restart_attempts",
    "restart_sent_at",
    "attention",
)
# One C-level read of every plain field (a getattr per field costs most of a record's encoding).
_plain_values = operator.attrgetter(*_PLAIN_FIELDS)


def snapshot_to_record(snapshot: Snapshot) -> dict[str, Any]:
    """Return the JSON-ready record of a snapshot, token included as plain text.

    Args:
        snapshot: The snapshot to store.
    """
    record: dict[str, Any] = {"name": snapshot.name, "state": snapshot.state.value}
    record.update(zip(_PLAIN_FIELDS, _plain_values(snapshot), strict=True))
    record["token"] = snapshot.token.reveal() if snapshot.token is not None else None
    return record


def snapshot_from_record(record: dict[str, Any]) -> Snapshot:
    """Rebuild a snapshot from `snapshot_to_record` output (unknown keys are ignored).

    Args:
        record: The stored record.

    Raises:
        ValueError: The record lacks a name or has an unknown state (the message names the field).
    """
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: must be a non-empty string, got {name!r}")
    try:
        state = State(str(record.get("state")))
    except ValueError:
        known = ", ".join(s.value for s in State)
        raise ValueError(f"state: unknown state {record.get('state')!r} (known: {known})") from None
    values = {field: record[field] for field in _PLAIN_FIELDS if field in record}
    token = record.get("token")
    return Snapshot(name=name, state=state, token=Secret(token) if token else None, **values)


def _decode(location: str, key: str, text: str) -> Snapshot:
    try:
        record = _json.loads(text)
        if not isinstance(record, dict):
            raise ValueError(f"must be a JSON object, got {type(record).__name__}")
        return snapshot_from_record(record)
    except (TypeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError; a token
        # that is not text is a TypeError
        raise JournalError(
            location,
            f"the record of {key!r} cannot be read ({exc}); repair or delete that row "
            "(an instance that exists on the server is adopted by name on the next run)",
        ) from None


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

    async def uncreated(self) -> set[str]:
        """Names this run may be handed that may still create: no record, or one not past
        create and not ended (the fleet reads the account's inventory for them, once)."""
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

    __slots__ = ("_known", "_pending", "_size", "_specs", "counts")

    def __init__(self, specs: Sequence[InstanceSpec], known: dict[str, Snapshot]) -> None:
        self._known = known
        self._specs = specs
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

    async def uncreated(self) -> set[str]:
        """Specs with no record, or a record not past create and not ended."""
        known = self._known
        return {
            s.name
            for s in self._specs
            if s.name not in known
            or (known[s.name].instance_id is None and not known[s.name].terminal)
        }

    async def job_counts(self) -> Mapping[State, int] | None:
        """None: the run is the whole job."""
        return None


#: One instance a journal hands to a supervisor: its snapshot, and None when the instance is
#: the supervisor's for the whole run (a local journal), or for a shared job the cancel scope
#: to watch it in, cancelled the moment the lease on it is lost.
Watched = tuple[Snapshot, anyio.CancelScope | None]


def is_supervised(snapshot: Snapshot) -> bool:
    """Whether a supervisor looks after the instance: it connected once and is still in play
    (onboarding's instances that never connected are left to onboarding).

    Args:
        snapshot: The journaled snapshot.
    """
    return (
        snapshot.connected_at is not None
        and snapshot.instance_id is not None
        and snapshot.state in SUPERVISED_STATES
    )


@contextlib.asynccontextmanager
async def local_supervision(journal: Journal) -> AsyncIterator[list[Watched]]:
    """The `Journal.supervision` of a journal one run owns: every supervised snapshot, once.

    Args:
        journal: The journal.
    """
    yield [(snap, None) for snap in await journal.load_all() if is_supervised(snap)]


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

    def supervision(self, gates: Gates) -> contextlib.AbstractAsyncContextManager[list[Watched]]:
        """What a supervisor watches, for the length of one run: every instance that connected
        once (see `is_supervised`), read once at the start.

        Args:
            gates: The supervisor's limits (a shared job shares its 429 cool-down).

        Raises:
            JournalLockedError: Another supervisor runs on the shared job.
        """
        ...


class _OwnedByOneRun:
    """What a journal one run owns alone (memory, SQLite) shares: the run works through every
    spec and supervises every snapshot itself, leaving the gates alone."""

    __slots__ = ()

    def work(
        self: Journal, specs: Sequence[InstanceSpec], gates: Gates
    ) -> contextlib.AbstractAsyncContextManager[Work]:
        """Every spec, resumed from its snapshot (see `LocalWork`).

        Args:
            specs: The fleet's instances.
            gates: The fleet's limits (a journal one run owns leaves them alone).
        """
        return local_work(self, specs)

    def supervision(
        self: Journal, gates: Gates
    ) -> contextlib.AbstractAsyncContextManager[list[Watched]]:
        """Every supervised snapshot (see `local_supervision`).

        Args:
            gates: The supervisor's limits (a journal one run owns leaves them alone).
        """
        return local_supervision(self)


class MemoryJournal(_OwnedByOneRun):
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

#: The file's schema version (``PRAGMA user_version``; files from before it say 0). 1: the
#: ``onboarding`` table; 2: records carry the supervisor's streaks (``repair_streak``,
#: ``repaired_at``, ``restart_attempts``, ``restart_sent_at``) and ``attention``. A record
#: written before 2 lacks them and reads them as their defaults, so 1 -> 2 rewrites nothing; a
#: file of a newer version than this code knows is refused (it may hold what this code would
#: drop on its next write).
_SCHEMA_VERSION = 2


def _explain(exc: BaseException) -> str:
    """What a SQLite or OS failure means for the journal, and what to do."""
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered:
        return (
            "is not an SQLite database (or its header is damaged); point --journal at another "
            "file, or restore this one from a backup"
        )
    if "malformed" in lowered or "corrupt" in lowered:
        return (
            "is damaged (truncated or overwritten); restore it from a backup, or start a new "
            "journal (instances already created are adopted by name from the server)"
        )
    if "disk is full" in lowered or getattr(exc, "errno", None) == errno.ENOSPC:
        return "the disk is full; free some space and run again (every saved record is intact)"
    if "readonly" in lowered or "read-only" in lowered:
        return "is read-only; make the file and its folder writable (the journal writes beside it)"
    if "unable to open" in lowered or isinstance(exc, OSError):
        return (
            f"cannot be opened ({text}); check that the folder exists and that this user may "
            "read and write the file and create files beside it"
        )
    return f"cannot be used: {type(exc).__name__}: {text}"


def _side_files(journal: Path) -> tuple[Path, Path]:
    return (journal.with_name(journal.name + "-wal"), journal.with_name(journal.name + "-shm"))


class _Hold:
    """The exclusive OS lock that makes one run at a time the journal's only writer.

    ``flock`` on a side file: the kernel releases it when the descriptor closes or the process
    dies (SIGKILL included), so a dead holder never blocks the next run. The file records who
    holds it, for the refusal message. Local file systems only: NFS may not honour ``flock``.
    """

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def take(cls, journal: Path) -> _Hold:
        import fcntl

        # Named after the file itself: a second opener through a symbolic link is refused too.
        real = journal.resolve()
        lock_path = real.with_name(real.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError(str(journal), _explain(exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_holder(os.pread(fd, 4096, 0))
            os.close(fd)
            raise JournalLockedError(str(journal), holder) from None
        except OSError as exc:
            os.close(fd)
            raise JournalError(str(journal), f"cannot be locked ({exc})") from None
        since = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())
        about = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
        with contextlib.suppress(OSError):  # the description is a courtesy; the lock is held
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(about).encode(), 0)
        return cls(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)  # closing the descriptor drops the flock


def _describe_holder(raw: bytes) -> str:
    try:
        info = json.loads(raw.decode())
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (ValueError, KeyError, TypeError):
        return "another process (it did not record who)"


_UPSERT = (
    "INSERT INTO onboarding (name, state, record) VALUES (?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET state = excluded.state, record = excluded.record"
)


def _connect(path: Path) -> sqlite3.Connection:
    """Open the file as a journal (runs on the journal's thread)."""
    # isolation_level=None: the journal says where each transaction begins and ends.
    # check_same_thread=False: opened on the journal's thread, then used on the event loop's
    # (never by two threads at once: see `SQLiteJournal._call`).
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
        if verdict != ["ok"]:
            raise sqlite3.DatabaseError(f"database disk image is malformed: {verdict[:3]}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise JournalError(
                str(path),
                f"has schema version {version}, newer than this vzaps-async knows "
                f"({_SCHEMA_VERSION}); upgrade vzaps-async",
            )
        if version < _SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            db.execute(_SCHEMA)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return db


def _write_group(db: sqlite3.Connection, batch: list[tuple[str, str, str]]) -> None:
    """Write one commit group in one transaction (runs on the journal's thread)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(_UPSERT, batch)
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


class GroupCommit(Generic[Row]):
    """Group commit for a journal: one flusher task writes the rows pending as one group while
    the saves made meanwhile gather into the next, so a burst of saves costs one write per group.

    A saver puts its row in `pending` (by instance name: a newer save of a name replaces the
    older) and awaits `commit`. The write runs in the flusher's own task, so a cancelled saver
    cannot abandon a group others wait for (its row goes with the group anyway).

    Args:
        write: Writes one group. An exception it raises is raised by every `commit` waiting for
            that group; putting the rows back for a later group is the write's own choice.
        window: Seconds the flusher waits, once woken by a commit, before it takes the first
            group: the saves made meanwhile share that group's write.
    """

    __slots__ = ("_flusher", "_waiters", "_window", "_write", "pending")

    def __init__(
        self, write: Callable[[list[Row]], Awaitable[None]], *, window: float = 0.0
    ) -> None:
        self._write = write
        self._window = window
        #: Rows waiting for the next group, by instance name.
        self.pending: dict[str, Row] = {}
        #: One future per `commit` waiting for the next group.
        self._waiters: list[asyncio.Future[None]] = []
        #: The task writing groups while commits keep coming (None when idle).
        self._flusher: asyncio.Task[None] | None = None

    async def commit(self) -> None:
        """Return once every row pending when called is written, with the group after any now
        being written; raises what writing that group raised."""
        done = asyncio.get_running_loop().create_future()
        self._waiters.append(done)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def idle(self) -> None:
        """Return once no group is being written (for closing the journal)."""
        if self._flusher is not None:
            await asyncio.wait([self._flusher])

    async def _flush(self) -> None:
        try:
            if self._window:
                await asyncio.sleep(self._window)
            while self._waiters:
                batch = list(self.pending.values())
                waiters, self._waiters = self._waiters, []
                self.pending.clear()
                try:
                    if batch:
                        await self._write(batch)
                except Exception as exc:
                    live = [waiter for waiter in waiters if not waiter.done()]  # done: cancelled
                    for waiter in live:
                        waiter.set_exception(exc)
                    if not live:
                        # Nobody is left to raise it to: say so rather than lose it.
                        log.warning("a journal commit group was not written: %s", exc)
                    continue
                except BaseException:
                    for waiter in (*waiters, *self._waiters):
                        waiter.cancel()  # the loop is shutting down
                    raise
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._flusher = None


class SQLiteJournal(_OwnedByOneRun):
    """A journal in one SQLite file (WAL, synchronous=FULL, one transaction per commit group).

    Use as ``async with SQLiteJournal(path) as journal`` or call `open` / `aclose`. While open,
    it holds ``<path>.lock`` exclusively: a second journal on the same file (in this process or
    any other on this machine) raises `JournalLockedError` from `open`.

    Saves are committed in groups by one flusher task: a save adds its snapshot to the next group
    and waits for it; the flusher writes a group (its records, then one commit and its fsync)
    while the saves made meanwhile gather into the one after.

    Where the standard library's `sqlite3` runs: the file is opened (and checked) on the
    journal's own thread, then read and written on the event loop, because a commit group on a
    local disk takes about as long as handing it to a thread and back costs the loop. A disk
    whose commits are slow (a network volume's fsync) would hold up the loop instead: once
    commits written on the loop average more than ``loop_write_limit``, every later call runs on
    the journal's thread, one at a time, while the loop goes on serving requests.

    Args:
        path: The database file; created with mode 0600 when missing (an existing file is made
            owner-only once it has opened as a journal).
        loop_write_limit: Seconds a commit group written on the event loop may take on average
            before the journal's calls move to its own thread for good; 0 runs every call there.
        commit_window: Seconds a save waits for others to share its commit. Each commit costs
            an fsync and the pages it rewrites, so onboardings whose saves arrive a few
            milliseconds apart share one instead of paying one each; 0 commits at once.
    """

    __slots__ = (
        "_db",
        "_group",
        "_hold",
        "_loop_write_limit",
        "_on_loop",
        "_path",
        "_write_seconds",
        "_writer",
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        loop_write_limit: float = 0.002,
        commit_window: float = 0.005,
    ) -> None:
        for option, value in (
            ("loop_write_limit", loop_write_limit),
            ("commit_window", commit_window),
        ):
            if not value >= 0:  # also refuses NaN
                raise ValueError(f"{option}: must be a number of seconds >= 0, got {value!r}")
        self._path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._hold: _Hold | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._group: GroupCommit[tuple[str, str, str]] = GroupCommit(
            self._write_batch, window=commit_window
        )
        self._loop_write_limit = loop_write_limit
        #: True while calls run on the event loop (until commits there prove slow).
        self._on_loop = loop_write_limit > 0
        #: Moving average of the commit groups written on the loop, in seconds.
        self._write_seconds = 0.0

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    async def open(self) -> SQLiteJournal:
        """Take the journal's lock, create or open the file and its table; return self.

        Raises:
            JournalLockedError: Another open journal holds the file.
            JournalError: The file cannot be used as a journal (the message says why and what
                to do); nothing was changed, the file's mode included.
        """
        if self._db is not None:
            raise RuntimeError("SQLiteJournal is already open")
        location = str(self._path)
        hold = _Hold.take(self._path)
        try:
            existed = self._path.exists()
            if not existed:
                # The journal holds instance tokens: created owner-only before SQLite opens it.
                os.close(os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
            with anyio.CancelScope(shield=True):  # a connection opened is a connection kept
                db = await self._run(_connect, self._path)
            if existed:
                # Only a file that opened as a journal is tightened, with the -wal and -shm files
                # SQLite has just made beside it with the file's old mode (they hold records too).
                try:
                    for path in (self._path, *_side_files(self._path)):
                        with contextlib.suppress(FileNotFoundError):
                            os.chmod(path, 0o600)
                except OSError:
                    with anyio.CancelScope(shield=True):
                        await self._run(db.close)
                    raise
        except (sqlite3.Error, OSError) as exc:
            self._stop_writer()
            hold.release()
            raise JournalError(location, _explain(exc)) from None
        except BaseException:
            self._stop_writer()
            hold.release()
            raise
        self._db = db
        self._hold = hold
        return self

    async def __aenter__(self) -> SQLiteJournal:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _run(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``function(*args)`` on the journal's own thread, after the calls queued before it.

        The one thread opens, uses and closes the connection: calls never overlap, and a call
        whose caller was cancelled still runs to its end before the next one starts.
        """
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="vzaps-journal")
        return asyncio.get_running_loop().run_in_executor(self._writer, function, *args)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the event loop, or on the journal's thread once commits
        proved slow. Never both at once: calls move to the thread only between two calls made on
        the loop, and from then on every call goes there."""
        if self._on_loop:
            return function(*args)
        return await self._run(function, *args)

    def _stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=False)  # idle: the connection's last call has returned

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("SQLiteJournal is not open; use 'async with SQLiteJournal(path)'")
        return self._db

    async def load_all(self) -> list[Snapshot]:
        """Return every stored snapshot.

        Raises:
            JournalError: The file cannot be read, or a record does not decode (named).
        """
        db = self._connection()

        def read() -> list[tuple[str, str]]:
            return db.execute("SELECT name, record FROM onboarding").fetchall()

        try:
            rows = await self._call(read)
        except sqlite3.Error as exc:
            raise JournalError(str(self._path), _explain(exc)) from None
        return [_decode(str(self._path), name, text) for name, text in rows]

    async def get(self, name: str) -> Snapshot | None:
        """Return the snapshot stored for ``name``, or None.

        Args:
            name: The instance name.

        Raises:
            JournalError: The file cannot be read, or the record does not decode.
        """
        db = self._connection()

        def read() -> tuple[str] | None:
            cursor = db.execute("SELECT record FROM onboarding WHERE name = ?", (name,))
            row: tuple[str] | None = cursor.fetchone()
            return row

        try:
            row = await self._call(read)
        except sqlite3.Error as exc:
            raise JournalError(str(self._path), _explain(exc)) from None
        return None if row is None else _decode(str(self._path), name, row[0])

    async def save(self, snapshot: Snapshot) -> None:
        """Store ``snapshot`` durably; returns once its commit group is on disk.

        Args:
            snapshot: The snapshot to store.

        Raises:
            JournalError: The record could not be encoded or written (a full disk, say); the
                record of this name on disk is still the previous one.
        """
        self._connection()  # a closed journal refuses the save
        # Encoded here, so a record that cannot be (a string that is not text) fails its own
        # save alone rather than every group it would ride in.
        try:
            record = _json.dumps(snapshot_to_record(snapshot)).decode()
        except (TypeError, ValueError) as exc:
            raise JournalError(
                str(self._path), f"the record of {snapshot.name!r} cannot be encoded ({exc})"
            ) from None
        self._group.pending[snapshot.name] = (snapshot.name, snapshot.state.value, record)
        await self._group.commit()

    async def _write_batch(self, batch: list[tuple[str, str, str]]) -> None:
        """Write one commit group (the `GroupCommit`'s write)."""
        try:
            if self._on_loop:
                started = time.perf_counter()
                _write_group(self._connection(), batch)
                self._timed(time.perf_counter() - started)
            else:
                await self._run(_write_group, self._connection(), batch)
        except BaseException as exc:
            # Back into the next group (a newer save of the same name wins): a later save writes
            # them with its own, and the record on disk is still the previous one.
            for row in batch:
                self._group.pending.setdefault(row[0], row)
            if isinstance(exc, sqlite3.Error):
                raise JournalError(str(self._path), _explain(exc)) from None
            raise

    def _timed(self, seconds: float) -> None:
        """Count a commit written on the loop; move calls to the thread once they are slow."""
        # An average over about the last 16 groups: the occasional checkpoint (which copies the
        # WAL into the file and syncs it) does not move the journal, a slow disk does.
        self._write_seconds += (seconds - self._write_seconds) / 16
        if self._write_seconds > self._loop_write_limit:
            self._on_loop = False
            log.info(
                "journal %s: commits take %.1f ms on average; writing them on the journal's "
                "thread from now on, so that the event loop is not held up",
                self._path,
                self._write_seconds * 1e3,
            )

    async def aclose(self) -> None:
        """Close the database and release its lock."""
        try:
            if self._db is not None:
                with anyio.CancelScope(shield=True):
                    # The group being written, and the one its cancelled savers left queued
                    # behind it, reach the disk before the connection goes.
                    await self._group.idle()
                    if self._group.pending:
                        with contextlib.suppress(JournalError):  # raised to its savers already
                            await self._group.commit()
        finally:
            # Whatever that last commit raised, the file is closed and its lock released.
            db, self._db = self._db, None
            hold, self._hold = self._hold, None
            try:
                if db is not None:
                    with anyio.CancelScope(shield=True):
                        await self._call(db.close)
            finally:
                self._stop_writer()
                if hold is not None:
                    hold.release()
