"""``python -m benchmarks.journals``: the journal dimension of the fleet benchmark.

One fleet of ``--instances`` (10,000) against a standalone simulator, on the memory journal, the
SQLite journal and the PostgreSQL journal (a throwaway cluster), and PostgreSQL shared by 1, 2 and
4 worker processes (the in-flight total is the same for every run, split among the workers).
Each run gets a fresh simulator, so that every run starts on an empty account: each worker
lists the account's instances once at its start (the inventory reconcile), and on one
simulator shared by the runs, later runs would list every instance of the earlier ones.
Reported per run: instances/s, client CPU per instance (every worker process), database round
trips and bytes written per instance (PostgreSQL: WAL bytes; SQLite: bytes the process wrote),
and the CPU each part used, with the whole machine's, which tells where the ceiling is: the
simulator (one process, so one core at most), the database, the workers, or all the cores
(other processes on a shared machine included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._sim import SimulatorProcess

CLIENT_TOKEN = "bench-client-token"
CLIENT_SECRET = "bench-client-secret"
RESULTS = Path(__file__).resolve().parent / "results"
# (label, journal kind, worker processes)
CONFIGS = [
    ("memory", "memory", 1),
    ("SQLite", "sqlite", 1),
    ("PostgreSQL, 1 worker", "postgres", 1),
    ("PostgreSQL, 2 workers", "postgres", 2),
    ("PostgreSQL, 4 workers", "postgres", 4),
]
_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (with its reaped children when asked), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def _postgres_cpu(postmaster: int | None) -> float:
    """CPU seconds of the server: the postmaster, its exited backends and its live ones."""
    if postmaster is None:
        return 0.0
    total = _proc_cpu(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _machine_jiffies() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine (every process), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # up to steal; guest time is already counted in user
    return total - idle, total


def _written_bytes() -> int:
    with open("/proc/self/io") as io:
        for line in io:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


async def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    from vzaps_async import Client, ClientConfig, Limits
    from vzaps_async.onboarding import (
        Fleet,
        FleetOptions,
        InstanceSpec,
        MemoryJournal,
        OnboardingOptions,
        PostgresJournal,
        SQLiteJournal,
        State,
    )

    names = [f"{spec['prefix']}-{i:06d}" for i in range(int(spec["instances"]))]
    options = FleetOptions(
        max_in_flight=int(spec["concurrency"]),
        onboarding=OnboardingOptions(poll_interval=1.0),
    )
    kind = spec["journal"]
    folder = tempfile.TemporaryDirectory(prefix="vzaps-bench-")
    journal: Any
    if kind == "memory":
        journal = MemoryJournal()
    elif kind == "sqlite":
        journal = await SQLiteJournal(Path(folder.name) / "fleet.db").open()
    else:
        journal = await PostgresJournal(spec["dsn"], job=spec["prefix"]).open()
    written = _written_bytes()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    async with Client(
        CLIENT_TOKEN,
        CLIENT_SECRET,
        config=ClientConfig(base_url=spec["base_url"], limits=Limits(max_connections=100)),
    ) as client:
        report = await Fleet(
            client, journal, [InstanceSpec(n) for n in names], options=options
        ).run()
    wall = time.perf_counter() - wall
    await journal.aclose()
    after = resource.getrusage(resource.RUSAGE_SELF)
    folder.cleanup()
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime),
        "onboarded": report.counts.get(State.CONNECTED, 0),
        "job_connected": (report.job or report.counts).get(State.CONNECTED, 0),
        "round_trips": getattr(journal, "round_trips", 0),
        "written_bytes": _written_bytes() - written,
    }


async def _wal_lsn(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))
    finally:
        await conn.close()


def _run(
    label: str, kind: str, workers: int, args: argparse.Namespace, sim: SimulatorProcess, pg: Any
) -> dict[str, Any]:
    prefix = f"j-{kind}-{workers}-{int(time.time() * 1000) % 10**8}"
    spec = {
        "journal": kind,
        "instances": args.instances,
        "concurrency": max(1, args.concurrency // workers),
        "base_url": sim.base_url,
        "dsn": pg.dsn if pg is not None else None,
        "prefix": prefix,
    }
    sim_cpu, db_cpu = sim.cpu_seconds() or 0.0, _postgres_cpu(pg and pg.postmaster_pid)
    busy, total = _machine_jiffies()
    lsn = asyncio.run(_wal_lsn(pg.dsn)) if kind == "postgres" else 0
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.journals", "--worker", json.dumps(spec)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=args.timeout)
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - started
    busy_after, total_after = _machine_jiffies()
    cores = os.cpu_count() or 1
    machine = (busy_after - busy) / max(1, total_after - total) * cores
    sim_cpu = (sim.cpu_seconds() or 0.0) - sim_cpu
    db_cpu = _postgres_cpu(pg and pg.postmaster_pid) - db_cpu
    wal = asyncio.run(_wal_lsn(pg.dsn)) - lsn if kind == "postgres" else 0
    n = args.instances
    client_cpu = sum(r["cpu_s"] for r in results)
    written = wal if kind == "postgres" else sum(r["written_bytes"] for r in results)
    parts = {
        "simulator": sim_cpu / wall,
        "database": db_cpu / wall,
        "workers": client_cpu / wall,
    }
    ours = sum(parts.values())
    if parts["simulator"] >= 0.85:
        ceiling = "the simulator (one core)"
    elif machine >= 0.85 * cores:
        ceiling = (
            f"the machine ({machine:.1f} of {cores} cores busy, "
            f"{max(0.0, machine - ours):.1f} by other processes)"
        )
    elif max(parts.values()) >= 0.85:
        ceiling = max(parts, key=lambda k: parts[k])
    else:
        # Nothing saturated: the run waits on pairing (phones, QR pacing) at its in-flight limit.
        ceiling = "none saturated (pairing time x in-flight limit)"
    return {
        "label": label,
        "journal": kind,
        "workers": workers,
        "instances": n,
        "connected": results[0]["job_connected"] if kind == "postgres" else results[0]["onboarded"],
        "onboarded_per_worker": [r["onboarded"] for r in results],
        "wall_s": wall,
        "instances_per_s": n / wall,
        "client_cpu_ms_per_instance": client_cpu / n * 1e3,
        "round_trips_per_instance": sum(r["round_trips"] for r in results) / n,
        "bytes_written_per_instance": written / n,
        "cpu_share": parts,
        "machine_busy": machine,
        "ceiling": ceiling,
    }


def _markdown(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    memory = next((r for r in runs if r["journal"] == "memory"), None)
    lines = [
        "# Fleet onboarding by journal",
        "",
        f"{args.instances} instances, {args.concurrency} in flight in total (split among the "
        f"workers), simulator latency {args.latency_ms:g} ms, {os.cpu_count()} cores. Client CPU "
        "is every worker process's user+sys; bytes written: WAL for PostgreSQL, the process's "
        "disk writes for SQLite. CPU share is CPU seconds per wall second (1.0 = one core); "
        "machine: every process on the machine, this benchmark's and others'. Each run has a "
        "fresh simulator (an empty account).",
        "",
        "| journal | inst/s | wall s | client CPU ms/inst | x memory | DB round trips/inst | "
        "bytes written/inst | CPU share sim / db / workers | machine | ceiling | all connected |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|:---:|",
    ]
    for r in runs:
        ratio = (
            r["client_cpu_ms_per_instance"] / memory["client_cpu_ms_per_instance"]
            if memory
            else float("nan")
        )
        share = r["cpu_share"]
        lines.append(
            f"| {r['label']} | {r['instances_per_s']:.1f} | {r['wall_s']:.1f} | "
            f"{r['client_cpu_ms_per_instance']:.2f} | {ratio:.2f} | "
            f"{r['round_trips_per_instance']:.2f} | {r['bytes_written_per_instance']:.0f} | "
            f"{share['simulator']:.2f} / {share['database']:.2f} / {share['workers']:.2f} | "
            f"{r['machine_busy']:.2f} | {r['ceiling']} | "
            f"{'yes' if r['connected'] == r['instances'] else 'no'} |"
        )
    one = next((r for r in runs if r["journal"] == "postgres" and r["workers"] == 1), None)
    if memory and one:
        ratio = one["client_cpu_ms_per_instance"] / memory["client_cpu_ms_per_instance"]
        lines += [
            "",
            f"Target: PostgreSQL with one worker within 1.5x the memory journal's client CPU per "
            f"instance: {ratio:.2f}x, {'met' if ratio <= 1.5 else 'NOT met'}.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the journal benchmark (or, with ``--worker``, one worker of it)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journals", description=__doc__)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=500, help="in flight, all workers")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="1,000 instances")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(asyncio.run(_worker(json.loads(args.worker)))), flush=True)
        return 0
    if args.quick:
        args.instances = 1000
    from vzaps_async.testing._postgres import PostgresUnavailable, throwaway_cluster

    options = [
        "--latency-ms", f"{args.latency_ms:g}",
        "--phones", "scan-after=0.5,on-qr=2",
        "--first-qr-seconds", "1",
        "--qr-seconds", "1",
        "--client-token", CLIENT_TOKEN,
        "--client-secret", CLIENT_SECRET,
    ]  # fmt: skip
    runs: list[dict[str, Any]] = []
    args.results_dir.mkdir(parents=True, exist_ok=True)
    try:
        with throwaway_cluster() as pg:
            for label, kind, workers in CONFIGS:
                print(f"{label}: {args.instances} instances ...", flush=True)
                with SimulatorProcess(
                    [sys.executable, "-m", "vzaps_async.testing"],
                    options,
                    log_path=args.results_dir / "logs" / f"journals-simulator-{kind}-{workers}.log",
                ) as sim:
                    runs.append(_run(label, kind, workers, args, sim, pg))
                print(f"  {runs[-1]['instances_per_s']:.1f} inst/s", flush=True)
    except PostgresUnavailable as exc:
        print(f"journal benchmark skipped: {exc}", file=sys.stderr)
        return 1
    (args.results_dir / "journals.json").write_text(json.dumps(runs, indent=2) + "\n")
    text = _markdown(runs, args)
    (args.results_dir / "journals.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
