"""The journal conformance suite: every backend keeps every field, durably, in order, one writer.

A new backend gets the whole suite by adding one parameter to the `backend` fixture: a function
that opens (again) the same storage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import attrs
import pytest

from vzaps_async import JournalLockedError
from vzaps_async._secret import Secret
from vzaps_async.onboarding import (
    Journal,
    MemoryJournal,
    PostgresJournal,
    Snapshot,
    SQLiteJournal,
    State,
)

TOKEN = Secret("inst_0123456789abcdef")


@attrs.frozen
class Backend:
    """A journal backend under test.

    Args:
        kind: Its name in test ids.
        open: Opens the backend's storage; called again, it opens the same storage.
        one_writer: Whether a second open while the first is open must be refused.
    """

    kind: str
    open: Callable[[], Awaitable[Journal]]
    one_writer: bool


@pytest.fixture(params=["memory", "sqlite", "sqlite-thread", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each journal backend, opening one storage that lives as long as the test."""
    opened: list[Journal] = []
    if request.param == "postgres":
        # One job of this test's own on the session's server; many writers by design (one
        # writer per instance is its lease, tested in test_postgres_journal.py).
        dsn = request.getfixturevalue("postgres_dsn")
        job = request.getfixturevalue("job_name")

        async def open_postgres() -> Journal:
            journal = await PostgresJournal(dsn, job=job).open()
            opened.append(journal)
            return journal

        opener, one_writer = open_postgres, False
    elif request.param == "memory":
        shared = MemoryJournal()

        async def open_memory() -> Journal:
            return shared

        opener, one_writer = open_memory, False
    else:
        path = tmp_path / "journal.db"
        # "sqlite-thread": every call on the journal's thread, as on a disk with slow commits.
        limit = 0.0 if request.param == "sqlite-thread" else 0.002

        async def open_sqlite() -> Journal:
            journal = await SQLiteJournal(path, loop_write_limit=limit).open()
            opened.append(journal)
            return journal

        opener, one_writer = open_sqlite, True
    yield Backend(request.param, opener, one_writer)
    for journal in opened:
        await journal.aclose()


def every_field(name: str = "shop-01") -> Snapshot:
    """A snapshot with every journaled field set to a value other than its default."""
    return Snapshot(
        name=name,
        state=State.CREATED,
        instance_id="VZ123",
        token=TOKEN,
        method="pair_code",
        phone="5511999999999",
        intent="subscribe",
        intent_at=4.5,
        create_attempts=2,
        subscribe_attempts=1,
        qr_rotations=3,
        pairing_restarts=1,
        qr_code=None,  # the one field never journaled (see test_the_qr_data_is_not_kept)
        pair_code="ABCD-EFGH",
        code_expires_at=123.5,
        subscribed=True,
        failure="a reason",
        planned_at=1.0,
        created_at=2.0,
        updated_at=3.0,
        connected_at=5.0,
        last_seen_connected_at=6.0,
        trouble_since=7.0,
        incident="messages stuck in the queue",
        disconnects=4,
        repairs=2,
        restarts=3,
        restarted_at=8.0,
        repair_streak=2,
        repaired_at=9.0,
        restart_attempts=1,
        restart_sent_at=7.5,
        attention="re-paired 2 time(s); link its phone by other means",
    )


async def test_every_field_round_trips(backend: Backend) -> None:
    """Every field of a saved snapshot, the intent and the token included, comes back as saved."""
    journal = await backend.open()
    saved = every_field()
    defaults = Snapshot(name=saved.name)
    unset = [
        f.name
        for f in attrs.fields(Snapshot)
        if f.name not in ("name", "qr_code") and getattr(saved, f.name) == getattr(defaults, f.name)
    ]
    assert unset == [], "the sample must set every field"
    await journal.save(saved)
    got = await journal.get(saved.name)
    assert got is not None
    for field in attrs.fields(Snapshot):
        assert getattr(got, field.name) == getattr(saved, field.name), field.name
    assert got.token is not None
    assert got.token.reveal() == TOKEN.reveal()
    assert await journal.get("missing") is None
    assert [s.name for s in await journal.load_all()] == [saved.name]


async def test_records_survive_reopening(backend: Backend) -> None:
    """What was saved before the journal closed is all there when it is opened again."""
    journal = await backend.open()
    await journal.save(every_field("a-1"))
    await journal.save(Snapshot(name="b-2"))
    await journal.aclose()
    journal = await backend.open()
    by_name = {s.name: s for s in await journal.load_all()}
    assert set(by_name) == {"a-1", "b-2"}
    assert by_name["a-1"] == every_field("a-1")
    assert by_name["b-2"].token is None


async def test_the_latest_save_of_a_name_wins(backend: Backend) -> None:
    """Saves of one name replace each other in order, including many issued at once."""
    journal = await backend.open()
    for state in (State.PLANNED, State.CREATED, State.SUBSCRIBED):
        await journal.save(attrs.evolve(every_field(), state=state))
    async with anyio.create_task_group() as tg:
        for i in range(200):
            tg.start_soon(journal.save, attrs.evolve(every_field(f"inst-{i:03}"), qr_rotations=i))
    await journal.aclose()
    journal = await backend.open()
    stored = {s.name: s for s in await journal.load_all()}
    assert stored["shop-01"].state is State.SUBSCRIBED
    assert {n: s.qr_rotations for n, s in stored.items() if n != "shop-01"} == {
        f"inst-{i:03}": i for i in range(200)
    }


async def test_a_second_writer_is_refused_while_the_first_is_open(backend: Backend) -> None:
    """While one journal is open on the storage, opening another is refused; after it, allowed."""
    if not backend.one_writer:
        pytest.skip(f"a {backend.kind} journal is not one writer for the whole storage")
    first = await backend.open()
    with pytest.raises(JournalLockedError, match=r"held by pid \d+ on "):
        await backend.open()
    await first.save(every_field())
    await first.aclose()
    second = await backend.open()
    assert await second.get("shop-01") == every_field()
