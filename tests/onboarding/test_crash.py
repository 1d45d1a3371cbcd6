"""Crash safety: the onboard CLI killed with SIGKILL at random points, restarted from its journal,
against a standalone simulator process that loses answers after committing them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from _standalone import assert_connected, get, post, standalone_simulator

from vzaps_async.onboarding import SQLiteJournal, State

pytestmark = pytest.mark.slow

TRIALS = 10
FLEET = 20
FAULTS = {"route": "*", "commit_then_fail": 0.05, "error_5xx": 0.05, "drop": 0.02}


@pytest.fixture(scope="module")
def simulator() -> Iterator[dict[str, str]]:
    """A strict standalone simulator process that loses answers; yields its VZAPS_* variables."""
    with standalone_simulator(
        "--strict",
        "--phones", "scan-after=0.05",
        "--first-qr-seconds", "0.5",
        "--qr-seconds", "0.5",
        "--fault-commit-then-fail", str(FAULTS["commit_then_fail"]),
        "--fault-5xx", str(FAULTS["error_5xx"]),
        "--fault-drop", str(FAULTS["drop"]),
        "--seed", "11",
    ) as env:  # fmt: skip
        yield env


def _cli(prefix: str, journal: Path, sim: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **sim}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vzaps_async.onboarding._cli",
            "--count",
            str(FLEET),
            "--prefix",
            prefix,
            "--journal",
            str(journal),
            "--poll-interval",
            "0.02",
            "--deadline",
            "120",
            "--presenter",
            "none",
            "--plain",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _commit_then_fail_count(base: str) -> int:
    return int(get(f"{base}/__sim/counters")["faults"].get("commit_then_fail", 0))


def _kill_after_lost_create(prefix: str, journal: Path, sim: dict[str, str]) -> None:
    """Force a commit-then-fail on create and kill the CLI the moment it happened."""
    base = sim["VZAPS_BASE_URL"]
    before = _commit_then_fail_count(base)
    post(
        f"{base}/__sim/faults",
        {
            "rules": [FAULTS],
            "force": [{"route": "PUT /instances/create", "kind": "commit_then_fail"}],
        },
    )
    process = _cli(prefix, journal, sim)
    deadline = time.monotonic() + 30
    while _commit_then_fail_count(base) == before and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_sigkill_at_random_points_never_duplicates_or_loses_anything(
    simulator: dict[str, str], tmp_path: Path
) -> None:
    """Killed and restarted runs end all connected: one instance per name, one subscription
    per instance, and every journaled token works."""
    rng = random.Random(2024)
    base = simulator["VZAPS_BASE_URL"]
    journals: dict[str, Path] = {}
    for trial in range(TRIALS):
        prefix = f"crash{trial:02d}"
        journal = journals[prefix] = tmp_path / f"{prefix}.db"
        if trial == 0:
            _kill_after_lost_create(prefix, journal, simulator)
        for _ in range(rng.randint(1, 3)):
            process = _cli(prefix, journal, simulator)
            time.sleep(rng.uniform(0.05, 0.8))
            process.send_signal(signal.SIGKILL)
            process.wait()
        for _ in range(5):
            final = _cli(prefix, journal, simulator)
            if final.wait(timeout=120) == 0:
                break
        assert final.returncode == 0, f"trial {trial} did not finish"

    counters = get(f"{base}/__sim/counters")
    names = {f"{p}-{i:04d}" for p in journals for i in range(1, FLEET + 1)}
    created = {n: c for n, c in counters["instances_created"].items() if n in names}
    assert created == dict.fromkeys(names, 1)

    snapshots = anyio.run(_load_all, list(journals.values()))
    assert {s.name for s in snapshots} == names
    assert all(s.state is State.CONNECTED for s in snapshots)
    ids = {s.instance_id for s in snapshots}
    subscriptions = {i: n for i, n in counters["subscriptions"].items() if i in ids}
    assert subscriptions == dict.fromkeys(ids, 1)
    post(f"{base}/__sim/faults", {"rules": []})  # the token check itself must not be faulted
    assert_connected(simulator, snapshots)


def test_a_journal_that_lost_its_wal_after_a_kill_creates_nothing_again(
    simulator: dict[str, str], tmp_path: Path
) -> None:
    """Killed mid-fleet, then its -wal and -shm deleted: the rerun adopts every instance it
    created (0 names created twice, 0 second subscriptions) and ends all connected."""
    base = simulator["VZAPS_BASE_URL"]
    post(f"{base}/__sim/faults", {"rules": [FAULTS]})
    prefix = "lostwal"
    journal = tmp_path / "lostwal.db"
    process = _cli(prefix, journal, simulator)
    deadline = time.monotonic() + 30
    names = {f"{prefix}-{i:04d}" for i in range(1, FLEET + 1)}
    while time.monotonic() < deadline:
        created = get(f"{base}/__sim/counters")["instances_created"]
        if sum(1 for n in created if n in names) >= FLEET // 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for side in ("-wal", "-shm"):
        journal.with_name(journal.name + side).unlink(missing_ok=True)
    for _ in range(5):
        final = _cli(prefix, journal, simulator)
        if final.wait(timeout=120) == 0:
            break
    assert final.returncode == 0
    counters = get(f"{base}/__sim/counters")
    created = {n: c for n, c in counters["instances_created"].items() if n in names}
    assert created == dict.fromkeys(names, 1)
    (snapshots,) = [anyio.run(_load_all, [journal])]
    ids = {s.instance_id for s in snapshots}
    assert {i: n for i, n in counters["subscriptions"].items() if i in ids} == dict.fromkeys(ids, 1)


async def _load_all(paths: list[Path]) -> list[Any]:
    snapshots = []
    for path in paths:
        async with SQLiteJournal(path) as journal:
            snapshots.extend(await journal.load_all())
    return snapshots
