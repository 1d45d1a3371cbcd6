"""Journals: round trips, durability across reopen, private file mode, concurrent saves."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import anyio
import pytest

from vzaps_async._secret import Secret
from vzaps_async.onboarding import Journal, MemoryJournal, Snapshot, SQLiteJournal, State

TOKEN = Secret("inst_0123456789abcdef")


def sample(name: str = "shop-01", **changes: object) -> Snapshot:
    base = Snapshot(
        name=name,
        state=State.PAIRING,
        instance_id="VZ123",
        token=TOKEN,
        method="pair_code",
        phone="5511999999999",
        intent=None,
        create_attempts=2,
        subscribe_attempts=1,
        qr_rotations=3,
        pairing_restarts=1,
        qr_code="data:image/png;base64,AAAA",
        pair_code="ABCD-EFGH",
        code_expires_at=123.5,
        subscribed=True,
        planned_at=1.0,
        created_at=2.0,
        updated_at=3.0,
    )
    import attrs

    return attrs.evolve(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_save_then_get_round_trips_everything_but_the_qr(kind: str, tmp_path: Path) -> None:
    """A saved snapshot comes back equal (token included), except the QR data, never journaled."""
    journal: Journal = (
        MemoryJournal() if kind == "memory" else await SQLiteJournal(tmp_path / "j.db").open()
    )
    snap = sample()
    await journal.save(snap)
    got = await journal.get("shop-01")
    assert got is not None
    expected = snap if kind == "memory" else sample(qr_code=None)
    assert got == expected
    assert got.token is not None
    assert got.token.reveal() == TOKEN.reveal()
    assert await journal.get("missing") is None
    assert [s.name for s in await journal.load_all()] == ["shop-01"]
    await journal.aclose()


async def test_sqlite_journal_survives_reopen_and_keeps_latest(tmp_path: Path) -> None:
    """Records saved before closing are all there after reopening, latest version per name."""
    path = tmp_path / "fleet.db"
    async with SQLiteJournal(path) as journal:
        await journal.save(sample("a-1", state=State.CREATED))
        await journal.save(sample("a-1", state=State.SUBSCRIBED))
        await journal.save(sample("b-2", state=State.PLANNED, instance_id=None, token=None))
    async with SQLiteJournal(path) as journal:
        by_name = {s.name: s for s in await journal.load_all()}
    assert by_name["a-1"].state is State.SUBSCRIBED
    assert by_name["b-2"].token is None
    assert by_name["b-2"].instance_id is None


async def test_sqlite_file_is_private(tmp_path: Path) -> None:
    """The journal (it holds tokens) is created with mode 0600, and a looser file is tightened."""
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


async def test_concurrent_saves_are_all_durable(tmp_path: Path) -> None:
    """Hundreds of concurrent saves (grouped into shared commits) are all stored."""
    path = tmp_path / "many.db"
    async with SQLiteJournal(path) as journal, anyio.create_task_group() as tg:
        for i in range(300):
            tg.start_soon(journal.save, sample(f"inst-{i:04}", create_attempts=i))
    async with SQLiteJournal(path) as journal:
        stored = {s.name: s.create_attempts for s in await journal.load_all()}
    assert stored == {f"inst-{i:04}": i for i in range(300)}


async def test_closed_sqlite_journal_refuses_use(tmp_path: Path) -> None:
    """Using a journal that is not open fails with a message saying how to open it."""
    journal = SQLiteJournal(tmp_path / "x.db")
    with pytest.raises(RuntimeError, match="not open"):
        await journal.save(sample())
