"""The SQLite journal's own promises: private file, no QR data, one writer, clear failures."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import attrs
import pytest

from vzaps_async import JournalError, JournalLockedError
from vzaps_async._secret import Secret
from vzaps_async.onboarding import Snapshot, SQLiteJournal, State

TOKEN = Secret("inst_0123456789abcdef")


def sample(name: str = "shop-01", **changes: object) -> Snapshot:
    base = Snapshot(
        name=name,
        state=State.PAIRING,
        instance_id="VZ123",
        token=TOKEN,
        qr_code="data:image/png;base64,AAAA",
        subscribed=True,
        planned_at=1.0,
    )
    return attrs.evolve(base, **changes)  # type: ignore[arg-type]


async def test_the_qr_data_is_not_kept(tmp_path: Path) -> None:
    """The QR data URL (only useful on screen, and the largest field) is not journaled."""
    async with SQLiteJournal(tmp_path / "j.db") as journal:
        await journal.save(sample())
        got = await journal.get("shop-01")
    assert got == sample(qr_code=None)


async def test_sqlite_file_is_private(tmp_path: Path) -> None:
    """The journal (it holds tokens) is created with mode 0600; a looser journal is tightened."""
    fresh = tmp_path / "fresh.db"
    async with SQLiteJournal(fresh) as journal:
        await journal.save(sample())
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    loose = tmp_path / "loose.db"
    loose.touch()
    os.chmod(loose, 0o644)
    async with SQLiteJournal(loose):
        pass
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


async def test_closed_sqlite_journal_refuses_use(tmp_path: Path) -> None:
    """Using a journal that is not open fails with a message saying how to open it."""
    journal = SQLiteJournal(tmp_path / "x.db")
    with pytest.raises(RuntimeError, match="not open"):
        await journal.save(sample())


async def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    """A garbage file is a JournalError naming the file; its bytes and mode are untouched."""
    path = tmp_path / "fleet.db"
    path.write_bytes(b"this is not a database at all, just some text" * 100)
    os.chmod(path, 0o644)
    before = path.read_bytes()
    with pytest.raises(JournalError, match="is not an SQLite database") as caught:
        await SQLiteJournal(path).open()
    assert caught.value.location == str(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    # The lock was released with the failure: a later open gets the same clear error, not a hold.
    with pytest.raises(JournalError, match="is not an SQLite database"):
        await SQLiteJournal(path).open()


async def test_a_truncated_database_is_refused(tmp_path: Path) -> None:
    """A journal cut short (a bad copy, a full disk) is refused at open as damaged."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:
        for i in range(400):
            await journal.save(sample(f"inst-{i:04}", failure="x" * 200))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(JournalError, match=r"damaged|not an SQLite database"):
        await SQLiteJournal(path).open()


def _corrupt_record(path: Path, name: str, record: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE onboarding SET record = ? WHERE name = ?", (record, name))


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ("{not json", "cannot be read"),
        (json.dumps({"name": "shop-01", "state": "LOST"}), "state: unknown state 'LOST'"),
        (json.dumps({"state": "PLANNED"}), "name: must be a non-empty string"),
        (json.dumps(["a list"]), "must be a JSON object"),
        (json.dumps({"name": "shop-01", "state": "CREATED", "token": 12345}), "must be a str"),
    ],
)
async def test_a_bad_record_is_named(tmp_path: Path, record: str, field: str) -> None:
    """A record that does not decode is a JournalError naming the record and what is wrong."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:
        await journal.save(sample())
    _corrupt_record(path, "shop-01", record)
    async with SQLiteJournal(path) as journal:
        with pytest.raises(JournalError, match="the record of 'shop-01'") as caught:
            await journal.load_all()
        assert field in str(caught.value)
        with pytest.raises(JournalError, match="the record of 'shop-01'"):
            await journal.get("shop-01")


@pytest.mark.parametrize("where", ["missing-folder", "folder-is-a-file"])
async def test_an_unreachable_path_is_a_clear_error(tmp_path: Path, where: str) -> None:
    """A journal path whose folder is missing (or is a file) says so and what to check."""
    parent = tmp_path / "nowhere"
    if where == "folder-is-a-file":
        parent.write_text("a file")
    with pytest.raises(JournalError, match="cannot be opened") as caught:
        await SQLiteJournal(parent / "fleet.db").open()
    assert "check that the folder exists" in str(caught.value)


async def test_a_full_disk_mid_run_is_a_journal_error_and_keeps_what_was_saved(
    tmp_path: Path,
) -> None:
    """A save that cannot be written raises JournalError; earlier records stay intact."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:
        await journal.save(sample("kept"))
        # Cap the database at its current size: SQLite then answers SQLITE_FULL, as a full
        # disk does.
        await journal._run(journal._db.execute, "PRAGMA max_page_count = 2")
        saved = 0
        with pytest.raises(JournalError, match="the disk is full"):  # noqa: PT012
            for saved in range(200):
                await journal.save(sample(f"inst-{saved:04}", failure="x" * 2000))
        assert saved < 199
    async with SQLiteJournal(path) as journal:
        assert await journal.get("kept") == sample("kept", qr_code=None)


async def test_the_holder_is_named_when_the_journal_is_held(tmp_path: Path) -> None:
    """A second open names the holder's pid and host, and what to do."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path):
        with pytest.raises(JournalLockedError) as caught:
            await SQLiteJournal(path).open()
    message = str(caught.value)
    assert f"pid {os.getpid()} on {os.uname().nodename}" in message
    assert "wait for that run to finish" in message


async def test_a_second_opener_through_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    """The one-writer lock belongs to the file, not to the path it was opened by."""
    path = tmp_path / "fleet.db"
    (tmp_path / "alias.db").symlink_to(path)
    async with SQLiteJournal(path):
        with pytest.raises(JournalLockedError):
            await SQLiteJournal(tmp_path / "alias.db").open()


async def test_a_record_that_cannot_be_encoded_fails_its_save_alone(tmp_path: Path) -> None:
    """A snapshot holding a string that is not text fails its own save with JournalError; the
    saves after it are written and the journal closes and lets go of the file."""
    path = tmp_path / "fleet.db"
    journal = await SQLiteJournal(path).open()
    try:
        with pytest.raises(JournalError, match="the record of 'shop-02' cannot be encoded"):
            await journal.save(sample("shop-02", failure="caf\udce9"))
        await journal.save(sample("shop-03"))
    finally:
        await journal.aclose()
    assert _on_disk(path) == {"shop-03": sample().state.value}
    async with SQLiteJournal(path) as again:
        assert await again.get("shop-02") is None


async def test_a_close_whose_last_commit_fails_still_closes_the_file_and_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while closing is raised, and the file is closed and its lock released anyway."""
    import vzaps_async.onboarding._store as store

    path = tmp_path / "fleet.db"
    journal = await SQLiteJournal(path).open()

    async def broken(self: object) -> None:
        raise RuntimeError("the flusher broke")

    monkeypatch.setattr(store.GroupCommit, "idle", broken)
    with pytest.raises(RuntimeError, match="the flusher broke"):
        await journal.aclose()
    monkeypatch.undo()
    async with SQLiteJournal(path) as again:
        assert await again.load_all() == []


def test_a_hold_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    """A run SIGKILLed while holding the journal leaves no hold: the next open succeeds."""
    path = tmp_path / "fleet.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import anyio, sys
                from vzaps_async.onboarding import SQLiteJournal
                async def main():
                    await SQLiteJournal({str(path)!r}).open()
                    print("held", flush=True)
                    await anyio.sleep(60)
                anyio.run(main)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"

    async def open_now() -> None:
        with pytest.raises(JournalLockedError):
            await SQLiteJournal(path).open()

    import anyio

    anyio.run(open_now)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)

    async def open_after() -> None:
        async with SQLiteJournal(path) as journal:
            await journal.save(sample())

    anyio.run(open_after)


async def test_debug_records_never_show_a_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, no record logged while the journal saves and loads carries a token."""
    caplog.set_level(logging.DEBUG)
    async with SQLiteJournal(tmp_path / "fleet.db") as journal:
        await journal.save(sample())
        await journal.load_all()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert TOKEN.reveal() not in text


async def test_a_journal_that_turns_read_only_says_so(tmp_path: Path) -> None:
    """A write refused as read-only is a JournalError saying to make the file writable."""
    async with SQLiteJournal(tmp_path / "fleet.db") as journal:
        await journal.save(sample("before"))
        # What SQLite answers when the file or its folder stops being writable.
        await journal._run(journal._db.execute, "PRAGMA query_only = 1")
        with pytest.raises(JournalError, match="is read-only; make the file and its folder"):
            await journal.save(sample("after"))
        await journal._run(journal._db.execute, "PRAGMA query_only = 0")


async def test_the_wal_and_shm_of_a_loose_journal_are_private_too(tmp_path: Path) -> None:
    """A 0644 journal opened again is tightened with the -wal and -shm SQLite makes beside it."""
    path = tmp_path / "loose.db"
    async with SQLiteJournal(path) as journal:
        await journal.save(sample())
    os.chmod(path, 0o644)
    async with SQLiteJournal(path) as journal:
        await journal.save(sample("another"))
        modes = [stat.S_IMODE(os.stat(f"{path}{side}").st_mode) for side in ("", "-wal", "-shm")]
    assert modes == [0o600, 0o600, 0o600]


async def test_a_journal_from_before_the_schema_version_is_migrated_and_reads_defaults(
    tmp_path: Path,
) -> None:
    """A file without a schema version (records without the supervisor's streaks) opens as
    version 2 and its records read the new fields as their defaults."""
    path = tmp_path / "old.db"
    old = {"name": "old-1", "state": "CONNECTED", "instance_id": "VZ1", "connected_at": 5.0}
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE onboarding (name TEXT PRIMARY KEY, state TEXT NOT NULL, record TEXT)")
    db.execute("INSERT INTO onboarding VALUES ('old-1', 'CONNECTED', ?)", (json.dumps(old),))
    db.commit()
    db.close()
    async with SQLiteJournal(path) as journal:
        snap = await journal.get("old-1")
    assert snap is not None
    assert (snap.state, snap.repair_streak, snap.restart_attempts, snap.attention) == (
        State.CONNECTED,
        0,
        0,
        None,
    )
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    db.close()


async def test_a_journal_of_a_newer_schema_is_refused_unchanged(tmp_path: Path) -> None:
    """A file whose schema version is newer than this code knows is refused, naming the fix,
    before anything is written to it."""
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(JournalError, match=r"schema version 99, newer .* upgrade vzaps-async"):
        await SQLiteJournal(path).open()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (99,)
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    db.close()


def _on_disk(path: Path) -> dict[str, str]:
    # A connection of its own: what another process would read after a crash.
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT name, state FROM onboarding").fetchall())


@attrs.define
class Group:
    """One commit group the SQLite journal wrote: its size and the thread that wrote it."""

    size: int
    thread: str


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[Group]:
    """Every commit group the SQLite journals of the test write, in order."""
    import threading

    import vzaps_async.onboarding._store as store

    written: list[Group] = []
    write_group = store._write_group

    def recording(db: sqlite3.Connection, batch: list[tuple[str, str, str]]) -> None:
        written.append(Group(len(batch), threading.current_thread().name))
        write_group(db, batch)

    monkeypatch.setattr(store, "_write_group", recording)
    return written


async def test_concurrent_saves_share_commits_and_are_on_disk_when_they_return(
    tmp_path: Path, groups: list[Group]
) -> None:
    """Saves made while a group commits go into the next group; each returns once it is on disk."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:

        async def save_and_check(index: int) -> None:
            await journal.save(sample(f"inst-{index:03}", state=State.CREATED))
            assert _on_disk(path).get(f"inst-{index:03}") == State.CREATED.value

        async with anyio.create_task_group() as tg:
            for index in range(50):
                tg.start_soon(save_and_check, index)
    assert sum(group.size for group in groups) == 50
    assert len(groups) < 50


async def test_a_cancelled_save_does_not_stop_the_group_others_wait_for(tmp_path: Path) -> None:
    """Cancelling the save that started a commit leaves it running for the others of its group."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:
        doomed = asyncio.create_task(journal.save(sample("cancelled")))
        others = [asyncio.create_task(journal.save(sample(f"other-{i}"))) for i in range(3)]
        await asyncio.sleep(0)  # every save has joined the group now being written
        doomed.cancel()
        await asyncio.wait_for(asyncio.gather(*others), timeout=30)
        assert doomed.cancelled()
        # The cancelled save's row went with its group.
        assert set(_on_disk(path)) == {"cancelled", "other-0", "other-1", "other-2"}


async def test_saves_cancelled_behind_a_commit_are_on_disk_once_the_journal_closes(
    tmp_path: Path,
) -> None:
    """Closing waits for the group being written and writes the one queued behind it."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:
        first = asyncio.create_task(journal.save(sample("a")))
        await asyncio.sleep(0)  # the group holding "a" is being written now
        queued = asyncio.create_task(journal.save(sample("b")))
        await asyncio.sleep(0)
        first.cancel()
        queued.cancel()
    assert set(_on_disk(path)) == {"a", "b"}


async def test_commits_move_to_the_journals_thread_once_they_prove_slow(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    groups: list[Group],
) -> None:
    """Commits run on the event loop until they average over loop_write_limit, then on a thread."""
    import threading
    import time

    import vzaps_async.onboarding._store as store

    recording = store._write_group

    def slow(db: sqlite3.Connection, batch: list[tuple[str, str, str]]) -> None:
        time.sleep(0.01)  # a network volume's fsync
        recording(db, batch)

    monkeypatch.setattr(store, "_write_group", slow)
    path = tmp_path / "fleet.db"
    caplog.set_level("INFO", logger="vzaps_async.onboarding")
    async with SQLiteJournal(path, loop_write_limit=0.002) as journal:
        for index in range(8):
            await journal.save(sample(f"inst-{index}", state=State.CREATED))
        assert (await journal.get("inst-7")) is not None
    threads = [group.thread for group in groups]
    on_loop = threading.current_thread().name
    assert threads[0] == on_loop
    assert threads[-1].startswith("vzaps-journal")
    moved = threads.index(threads[-1])
    assert set(threads[:moved]) == {on_loop}
    assert set(threads[moved:]) == {threads[-1]}
    assert "from now on" in caplog.text
    assert set(_on_disk(path)) == {f"inst-{index}" for index in range(8)}


async def test_a_loop_write_limit_of_zero_writes_every_group_on_the_journals_thread(
    tmp_path: Path, groups: list[Group]
) -> None:
    """loop_write_limit=0 keeps every commit off the event loop."""
    async with SQLiteJournal(tmp_path / "fleet.db", loop_write_limit=0) as journal:
        for index in range(3):
            await journal.save(sample(f"inst-{index}"))
    assert len(groups) == 3
    assert all(group.thread.startswith("vzaps-journal") for group in groups)


@pytest.mark.parametrize("option", ["loop_write_limit", "commit_window"])
@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_a_bad_timing_option_is_refused_by_name(tmp_path: Path, option: str, value: float) -> None:
    """A negative or NaN loop_write_limit or commit_window is refused, naming the option."""
    with pytest.raises(ValueError, match=option):
        SQLiteJournal(tmp_path / "fleet.db", **{option: value})


@pytest.mark.parametrize(("window", "sizes"), [(0.5, [2]), (0.0, [1, 1])])
async def test_saves_made_within_the_commit_window_share_one_commit(
    tmp_path: Path, groups: list[Group], window: float, sizes: list[int]
) -> None:
    """A save made while an earlier one waits out the commit window joins its group."""
    async with SQLiteJournal(tmp_path / "fleet.db", commit_window=window) as journal:
        first = asyncio.create_task(journal.save(sample("a")))
        await asyncio.sleep(0.05)
        await journal.save(sample("b"))
        await first
    assert [group.size for group in groups] == sizes
