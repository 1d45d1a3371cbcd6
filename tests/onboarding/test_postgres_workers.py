"""Several `vzaps-async onboard` worker processes sharing one PostgreSQL job, against a standalone
simulator: they all take part, and SIGKILLs under faults never create, bill or lose twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anyio
import asyncpg
import pytest
from _standalone import assert_connected, get, post, standalone_simulator

from vzaps_async.onboarding import PostgresJournal, State

pytestmark = pytest.mark.slow

SIM_OPTIONS = (
    "--phones",
    "scan-after=0.05",
    "--first-qr-seconds",
    "0.5",
    "--qr-seconds",
    "0.5",
    "--latency-ms",
    "5",
)


@pytest.fixture(scope="module")
def simulator() -> Iterator[dict[str, str]]:
    """A standalone simulator process shared by this module's tests."""
    with standalone_simulator(*SIM_OPTIONS, "--seed", "15") as env:
        yield env


def _worker(
    dsn: str, job: str, sim: dict[str, str], *extra: str, log: Any = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vzaps_async.onboarding._cli",
            "--journal",
            dsn,
            "--job",
            job,
            "--lease",
            "2",
            "--poll-interval",
            "0.05",
            "--deadline",
            "120",
            "--presenter",
            "none",
            "--plain",
            *extra,
        ],
        env={**os.environ, **sim},
        stdout=log,
        stderr=log,
    )


def _status(dsn: str, job: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vzaps_async.cli",
            "fleet",
            "status",
            "--journal",
            dsn,
            "--job",
            job,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_four_workers_all_take_part_and_the_job_ends_connected(
    postgres_dsn: str, job_name: str, simulator: dict[str, str]
) -> None:
    """Four workers started on one job of 120 each onboard some; every instance connects."""
    workers = [
        _worker(
            postgres_dsn,
            job_name,
            simulator,
            "--count",
            "120",
            "--prefix",
            "four",
            "--concurrency",
            "8",
        )
        for _ in range(4)
    ]
    try:
        codes = [worker.wait(timeout=120) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert codes == [0, 0, 0, 0]
    status = _status(postgres_dsn, job_name)
    assert status["states"] == {"CONNECTED": 120}
    assert len(status["workers"]) == 4
    assert all(worker["instances"] > 0 for worker in status["workers"]), [
        (w["started_at"], w["instances"]) for w in status["workers"]
    ]
    assert sum(worker["instances"] for worker in status["workers"]) == 120
    created = get(f"{simulator['VZAPS_BASE_URL']}/__sim/counters")["instances_created"]
    assert {n: c for n, c in created.items() if n.startswith("four-")} == {
        f"four-{i:04d}": 1 for i in range(1, 121)
    }


FAULT_RULES = [
    # The latency keeps the job going long enough for twelve kills on a busy machine.
    {"route": "*", "error_5xx": 0.05, "drop": 0.03, "latency": 0.03},
    {"route": "PUT /instances/create", "commit_then_fail": 0.10},
    {"route": "* /instances/*/subscribe", "commit_then_fail": 0.10},
]


def test_sigkilled_workers_under_faults_never_duplicate_or_lose_anything(
    postgres_dsn: str, job_name: str, simulator: dict[str, str]
) -> None:
    """Four workers on 200 instances, killed at random at least 12 times and restarted, under
    5xx, dropped connections and commit-then-fail: all connected, one create per name, one
    subscription per instance, and every journaled token works."""
    base = simulator["VZAPS_BASE_URL"]
    post(f"{base}/__sim/faults", {"rules": FAULT_RULES})
    rng = random.Random(1515)
    args = ("--count", "200", "--prefix", "chaos", "--concurrency", "6")
    slots = [_worker(postgres_dsn, job_name, simulator, *args) for _ in range(4)]
    kills = 0
    try:
        give_up = time.monotonic() + 120
        while kills < 12:
            assert time.monotonic() < give_up, f"only {kills} kills of workers holding instances"
            time.sleep(rng.uniform(0.1, 0.5))
            # Only a worker in the middle of onboarding (holding unfinished instances) is killed.
            holders = anyio.run(_holders, postgres_dsn, job_name)
            if holders is None:
                pytest.fail(f"the job finished after only {kills} kills; slow it down")
            victims = [i for i, slot in enumerate(slots) if slot.pid in holders]
            if not victims:
                continue
            victim = rng.choice(victims)
            slots[victim].send_signal(signal.SIGKILL)
            slots[victim].wait()
            kills += 1
            slots[victim] = _worker(postgres_dsn, job_name, simulator, *args)
        # No more kills: let the workers finish; one that ended early is started again.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            codes = [slot.wait(timeout=max(1.0, deadline - time.monotonic())) for slot in slots]
            if _status(postgres_dsn, job_name)["states"] == {"CONNECTED": 200}:
                break
            slots = [
                _worker(postgres_dsn, job_name, simulator, *args) if code != 0 else slot
                for slot, code in zip(slots, codes, strict=True)
            ]
    finally:
        for slot in slots:
            if slot.poll() is None:
                slot.kill()
                slot.wait()
        post(f"{base}/__sim/faults", {"rules": []})

    assert kills >= 12
    status = _status(postgres_dsn, job_name)
    assert status["states"] == {"CONNECTED": 200}
    counters = get(f"{base}/__sim/counters")
    # The faults did happen, and killed workers' instances were taken over by others.
    assert counters["faults"].get("commit_then_fail", 0) >= 10
    assert len(status["workers"]) >= 4 + kills
    names = {f"chaos-{i:04d}" for i in range(1, 201)}
    created = {n: c for n, c in counters["instances_created"].items() if n in names}
    assert created == dict.fromkeys(names, 1)
    snapshots = anyio.run(_load_all, postgres_dsn, job_name)
    assert {s.name for s in snapshots} == names
    assert all(s.state is State.CONNECTED for s in snapshots)
    ids = {s.instance_id for s in snapshots}
    assert len(ids) == 200
    subscriptions = {i: n for i, n in counters["subscriptions"].items() if i in ids}
    assert subscriptions == dict.fromkeys(ids, 1)
    assert_connected(simulator, snapshots)


async def _holders(dsn: str, job: str) -> set[int] | None:
    """Pids of the workers holding unfinished instances of the job; None once it is done."""
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT to_regclass('vzaps_instances')") is None:
            return set()  # no worker has created the schema yet
        done = await conn.fetchval(
            "SELECT count(*) > 0 AND bool_and(state = 'CONNECTED') FROM vzaps_instances "
            "WHERE job = $1",
            job,
        )
        if done:
            return None
        rows = await conn.fetch(
            "SELECT DISTINCT w.pid FROM vzaps_instances i "
            "JOIN vzaps_workers w ON w.job = i.job AND w.id = i.owner "
            "WHERE i.job = $1 AND i.state NOT IN ('CONNECTED', 'FAILED', 'CANCELLED')",
            job,
        )
    finally:
        await conn.close()
    return {int(row[0]) for row in rows}


async def _load_all(dsn: str, job: str) -> list[Any]:
    async with PostgresJournal(dsn, job=job) as journal:
        return await journal.load_all()
