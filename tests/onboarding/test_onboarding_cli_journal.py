"""The ``onboard`` command and its journal: one run at a time, and one line for a bad journal.

Real processes against a standalone simulator, as an operator would start them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _standalone import get, standalone_simulator

FLEET = 40


@pytest.fixture(scope="module")
def simulator() -> Iterator[dict[str, str]]:
    """A strict standalone simulator whose phones take 6 s to scan (so the first run is still
    going when the second starts); yields the VZAPS_* variables."""
    with standalone_simulator(
        "--strict", "--phones", "scan-after=6", "--first-qr-seconds", "20", "--qr-seconds", "20",
        "--latency-ms", "20",
    ) as env:  # fmt: skip
        yield env


def _onboard(journal: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "vzaps_async.onboarding._cli", "--count", str(FLEET),
            "--prefix", "twice", "--journal", str(journal), "--poll-interval", "0.05",
            "--presenter", "none", "--plain", *extra,
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_a_second_run_on_a_held_journal_refuses_before_any_request(
    simulator: dict[str, str], tmp_path: Path
) -> None:
    """Started while the first run's creates are in flight, a second run exits 2 naming the
    holder and sends nothing; every name is created and billed once, and a rerun finishes."""
    base = simulator["VZAPS_BASE_URL"]
    journal = tmp_path / "fleet.db"
    first = _onboard(journal, simulator)
    lock = journal.with_name("fleet.db.lock")
    deadline = time.monotonic() + 30
    while get(f"{base}/__sim/counters")["requests"].get("PUT /instances/create", 0) == 0:
        assert time.monotonic() < deadline, "the first run never started creating"
        time.sleep(0.01)
    second = _onboard(journal, simulator)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 2
    (line,) = err.strip().splitlines()
    assert f"journal {journal}: held by pid {first.pid} on " in line
    assert first.wait(timeout=60) == 0
    counters = get(f"{base}/__sim/counters")
    created = {n: c for n, c in counters["instances_created"].items() if n.startswith("twice-")}
    assert len(created) == FLEET
    assert set(created.values()) == {1}
    assert set(counters["subscriptions"].values()) == {1}
    assert lock.exists()
    # The second run sent nothing, not even for a JWT: the only token was the first run's.
    assert counters["requests"]["POST /token"] == 1
    rerun = _onboard(journal, simulator)
    assert rerun.wait(timeout=60) == 0
    after = get(f"{base}/__sim/counters")
    assert after["instances_created"] == counters["instances_created"]
    assert after["subscriptions"] == counters["subscriptions"]


def test_a_garbage_journal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A journal file that is not a database ends the run at once: one line naming it, exit 2."""
    journal = tmp_path / "fleet.db"
    journal.write_bytes(b"\x00garbage header, not SQLite\n" * 64)
    before = journal.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VZAPS_")}
    result = subprocess.run(
        [
            sys.executable, "-m", "vzaps_async.onboarding._cli", "--simulate", "--count", "2",
            "--journal", str(journal), "--plain",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"vzaps-async onboard: journal {journal}: is not an SQLite database")
    assert "Traceback" not in result.stderr
    assert journal.read_bytes() == before


def test_refused_credentials_are_one_line_and_exit_2(
    simulator: dict[str, str], tmp_path: Path
) -> None:
    """A wrong client secret stops the run at the account's inventory: one line, exit 2, and
    nothing created."""
    base = simulator["VZAPS_BASE_URL"]
    before = get(f"{base}/__sim/counters")["instances_created"]
    env = {**simulator, "VZAPS_CLIENT_SECRET": "cs_wrong_secret_value"}
    process = _onboard(tmp_path / "fleet.db", env)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("vzaps-async onboard: reading the account's instances: ")
    assert "cs_wrong_secret_value" not in err
    assert get(f"{base}/__sim/counters")["instances_created"] == before
