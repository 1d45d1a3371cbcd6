"""``python -m benchmarks``: run the scenarios for every client, alternating, and write the report.

Each client variant runs in a fresh ``python -m benchmarks._variant`` process with a timeout; the
simulator runs in its own process and is always stopped. A variant that fails is reported as
failed with its error and the run carries on.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._report import (
    CLIENT_LABELS,
    check_targets,
    machine_info,
    render_markdown,
    summarise,
    write_chart,
)
from ._requests import CLIENTS as REQUEST_CLIENTS
from ._sim import SimulatorError, SimulatorProcess, prepare_connected_instance
from ._startup import CLIENTS as STARTUP_CLIENTS
from ._startup import compile_sources, run_startup
from ._variant import RESULT_PREFIX

CLIENT_TOKEN = "bench-client-token"
CLIENT_SECRET = "bench-client-secret"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = ("requests", "fleet", "fullload", "startup")


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _scenario_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s): {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}"
        )
    return names


def _instance_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"{count} instances: give 0 (skip) or more")
    return count


def _name_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(names) - set(CLIENT_LABELS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown client(s): {', '.join(sorted(unknown))}")
    return names


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark vzaps_async against raw aiohttp and the official vzaps SDK.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small run (about a minute and a half): 1 round, 1,000 requests, fleet of 200, "
        "full load of 300",
    )
    parser.add_argument(
        "--scenarios",
        type=_scenario_list,
        default=list(SCENARIOS),
        help="comma list of: " + ", ".join(SCENARIOS) + " (default all four)",
    )
    parser.add_argument(
        "--clients",
        type=_name_list,
        default=list(CLIENT_LABELS),
        help="comma list of: " + ", ".join(CLIENT_LABELS),
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    parser.add_argument(
        "--requests", type=int, default=None, help="send_text calls per run (default 20000)"
    )
    parser.add_argument(
        "--official-requests",
        type=int,
        default=None,
        help="send_text calls per run for the official SDK, at most --requests (default 4000)",
    )
    parser.add_argument(
        "--concurrency",
        type=_int_list,
        default=None,
        help="comma list of concurrency levels (default 1,16,64,256)",
    )
    parser.add_argument(
        "--fleet-sizes",
        type=_int_list,
        default=None,
        help="comma list of fleet sizes (default 1000,10000; add 50000 to see memory at scale)",
    )
    parser.add_argument(
        "--full-load-size",
        type=_instance_count,
        default=None,
        help="instances of the full-load fleet (0 ms latency, phones scan the first QR; "
        "default 5000, 0 skips it)",
    )
    parser.add_argument(
        "--fleet-concurrency",
        type=int,
        default=None,
        help="instances in flight at most, fleet and full load (default 500)",
    )
    parser.add_argument(
        "--fleet-connections",
        type=int,
        default=100,
        help="connection pool size of every client in the fleet and full-load scenarios",
    )
    parser.add_argument(
        "--fleet-phase-concurrency",
        type=int,
        default=None,
        help="create/subscribe/poll calls in flight for the Fleet (default: the Fleet's own)",
    )
    parser.add_argument(
        "--fleet-latency-ms",
        type=float,
        default=20.0,
        help="simulator latency for the fleet scenario",
    )
    parser.add_argument(
        "--qr-seconds",
        type=float,
        default=1.0,
        help="simulator lifetime of the first and later QR codes",
    )
    parser.add_argument(
        "--scan-after",
        type=float,
        default=0.5,
        help="seconds the scanned QR (the 2nd; the 1st at full load) is visible before the "
        "simulated phone scans it",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        help="seconds between QR polls (shortened by the QR's expires_in)",
    )
    parser.add_argument(
        "--variant-timeout",
        type=float,
        default=900.0,
        help="seconds one variant process may take before it is killed",
    )
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument(
        "--simulator-cmd",
        default=f"{shlex.quote(sys.executable)} -m vzaps_async.testing",
        help="command that starts the simulator (it must accept the simulator's options)",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print the figures only; write nothing to the results directory",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the simulator and the clients run on any CPU (default: the simulator on the "
        "first CPU, each client on the second, when there are two)",
    )
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "quick": quick,
        "scenarios": args.scenarios,
        "clients": args.clients,
        "rounds": args.rounds or (1 if quick else 3),
        "requests": args.requests or (1000 if quick else 20_000),
        # The official SDK sends at a tenth to a twentieth of the others' rate: fewer calls still
        # make runs of several seconds and spare most of the suite's time.
        "official_requests": args.official_requests or (1000 if quick else 4_000),
        "concurrency": args.concurrency or [1, 16, 64, 256],
        "fleet_sizes": args.fleet_sizes or ([200] if quick else [1000, 10_000]),
        "full_load_size": (
            args.full_load_size if args.full_load_size is not None else 300 if quick else 5000
        ),
        "fleet_concurrency": args.fleet_concurrency or (100 if quick else 500),
        "fleet_connections": args.fleet_connections,
        "fleet_phase_concurrency": args.fleet_phase_concurrency,
        "fleet_latency_ms": args.fleet_latency_ms,
        "qr_seconds": args.qr_seconds,
        "scan_after": args.scan_after,
        "poll_interval": args.poll_interval,
        "variant_timeout": args.variant_timeout,
        # (simulator CPU, client CPU), or None: unpinned.
        "cpus": None if args.no_pin else _cpu_pair(),
        "command": "python -m benchmarks " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    }


def _cpu_pair() -> tuple[int, int] | None:
    """Two CPUs, one for the simulator and one for the client, or None with fewer than two.

    Pinned apart, the two processes never take turns on one core or migrate between cores,
    which made single rounds drift by more than the gaps being measured.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # sched_getaffinity is Linux only
        return None
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


def run_variant(spec: dict[str, Any], timeout: float, cpu: int | None = None) -> dict[str, Any]:
    """Run one client in a fresh process and return its figures (or the failure).

    Args:
        spec: The variant spec (see `benchmarks._variant`).
        timeout: Seconds before the process is killed.
        cpu: The one CPU the process may run on (None: any).
    """
    command = [sys.executable, "-m", "benchmarks._variant", json.dumps({**spec, "cpu": cpu})]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"failed": True, "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            if result.get("failed") and done.stderr:
                result["stderr_tail"] = done.stderr[-1500:]
            result["process_s"] = time.monotonic() - started
            return result
    return {
        "failed": True,
        "error": f"no result (exit {done.returncode}): {done.stderr[-800:].strip()}",
    }


def _client_cpu(settings: dict[str, Any]) -> int | None:
    cpus = settings.get("cpus")
    return None if cpus is None else int(cpus[1])


def _sim_totals(sim: SimulatorProcess) -> dict[str, Any]:
    counters = sim.counters() or {}
    totals = counters.get("totals", {})
    return {k: v for k, v in totals.items() if isinstance(v, int | float)}


def _delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    return {key: value - before.get(key, 0) for key, value in after.items()}


def _print_request(run: dict[str, Any]) -> None:
    result = run["result"]
    head = f"  [round {run['round']}] c={run['concurrency']:<4} {CLIENT_LABELS[run['client']]:<22}"
    if result.get("failed"):
        print(f"{head} FAILED: {result.get('error')}", flush=True)
        return
    print(
        f"{head} {result['rps']:>9,.0f} req/s  {result['cpu_us_per_request']:>7,.0f} µs CPU/req  "
        f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms  errors {result['errors']}  "
        f"conns {result['connections_opened']}",
        flush=True,
    )


def _print_fleet(run: dict[str, Any]) -> None:
    result = run["result"]
    head = f"  [round {run['round']}] n={run['instances']:<6} {CLIENT_LABELS[run['client']]:<22}"
    if result.get("failed"):
        print(f"{head} FAILED: {result.get('error')}", flush=True)
        return
    print(
        f"{head} {result['instances_per_s']:>7,.1f} inst/s  wall {result['wall_s']:.1f} s  "
        f"{result['cpu_ms_per_instance']:.2f} ms CPU/inst  peak RSS "
        f"{result['peak_rss_kib'] / 1024:.0f} MiB  "
        f"+{result['rss_growth_kib'] / 1024:.1f} MiB"
        f"  connected {result['connected']}/{result['instances']}"
        + ("" if result.get("sim_check", True) else "  (simulator disagrees)"),
        flush=True,
    )


def _simulator(
    command: list[str], options: list[str], logs: Path, settings: dict[str, Any]
) -> SimulatorProcess:
    cpus = settings.get("cpus")
    return SimulatorProcess(
        command,
        ["--client-token", CLIENT_TOKEN, "--client-secret", CLIENT_SECRET, *options],
        log_path=logs / "simulator.log",
        cpu=None if cpus is None else cpus[0],
    )


def run_requests(settings: dict[str, Any], command: list[str], logs: Path) -> list[dict[str, Any]]:
    """Scenario 1 for every round, concurrency and client (one simulator per round).

    Args:
        settings: Run settings.
        command: Simulator command.
        logs: Directory for the simulator's output.
    """
    runs: list[dict[str, Any]] = []
    print(f"Request path: {settings['requests']:,} send_text calls per run", flush=True)
    for round_number in range(1, settings["rounds"] + 1):
        with _simulator(command, ["--phones", "scan-after=0"], logs, settings) as sim:
            instance_id, instance_token = prepare_connected_instance(
                sim.base_url, CLIENT_TOKEN, CLIENT_SECRET
            )
            for concurrency in settings["concurrency"]:
                for client in settings["clients"]:
                    if client not in REQUEST_CLIENTS:
                        continue  # a fleet-only variant (a journal), no request-path figures
                    spec = {
                        "scenario": "requests",
                        "client": client,
                        "base_url": sim.base_url,
                        "client_token": CLIENT_TOKEN,
                        "client_secret": CLIENT_SECRET,
                        "instance_id": instance_id,
                        "instance_token": instance_token,
                        "requests": (
                            min(settings["requests"], settings["official_requests"])
                            if client == "vzaps_official"
                            else settings["requests"]
                        ),
                        "concurrency": concurrency,
                    }
                    sim_cpu, sim_before = sim.cpu_seconds(), _sim_totals(sim)
                    result = run_variant(spec, settings["variant_timeout"], _client_cpu(settings))
                    sim_after, sim_cpu_after = _sim_totals(sim), sim.cpu_seconds()
                    result["simulator"] = _delta(sim_after, sim_before)
                    if sim_cpu is not None and sim_cpu_after is not None:
                        result["simulator"]["cpu_s"] = sim_cpu_after - sim_cpu
                    run = {
                        "scenario": "requests",
                        "round": round_number,
                        "client": client,
                        "concurrency": concurrency,
                        "result": result,
                    }
                    _print_request(run)
                    runs.append(run)
    return runs


def _fleet_rounds(
    settings: dict[str, Any],
    command: list[str],
    logs: Path,
    *,
    scenario: str,
    sizes: list[int],
    clients: list[str],
    options: list[str],
) -> list[dict[str, Any]]:
    """Fleets for every round, size and client, alternating (a fresh simulator per run)."""
    runs: list[dict[str, Any]] = []
    for round_number in range(1, settings["rounds"] + 1):
        for size in sizes:
            for client in clients:
                spec = {
                    "scenario": "fleet",
                    "client": client,
                    "client_token": CLIENT_TOKEN,
                    "client_secret": CLIENT_SECRET,
                    "instances": size,
                    "concurrency": settings["fleet_concurrency"],
                    "connections": settings["fleet_connections"],
                    "poll_interval": settings["poll_interval"],
                    "phase_concurrency": settings["fleet_phase_concurrency"],
                    "name_prefix": f"bench-{client}-r{round_number}",
                }
                try:
                    with _simulator(command, options, logs, settings) as sim:
                        spec["base_url"] = sim.base_url
                        result = run_variant(
                            spec, settings["variant_timeout"], _client_cpu(settings)
                        )
                        totals = _sim_totals(sim)
                        result["simulator"] = {**totals, "cpu_s": sim.cpu_seconds()}
                except SimulatorError as exc:
                    result = {"failed": True, "error": f"simulator: {exc}"}
                if not result.get("failed") and "pairings" in totals:
                    result["sim_check"] = (
                        totals.get("pairings") == size and totals.get("instances_created") == size
                    )
                run = {
                    "scenario": scenario,
                    "round": round_number,
                    "client": client,
                    "instances": size,
                    "result": result,
                }
                _print_fleet(run)
                runs.append(run)
    return runs


def _simulator_options(settings: dict[str, Any], latency_ms: float, on_qr: int) -> list[str]:
    return [
        "--latency-ms", f"{latency_ms:g}",
        "--phones", f"scan-after={settings['scan_after']:g},on-qr={on_qr}",
        "--first-qr-seconds", f"{settings['qr_seconds']:g}",
        "--qr-seconds", f"{settings['qr_seconds']:g}",
    ]  # fmt: skip


def run_fleets(settings: dict[str, Any], command: list[str], logs: Path) -> list[dict[str, Any]]:
    """Scenario 2 for every round, fleet size and client (a fresh simulator per run).

    Args:
        settings: Run settings.
        command: Simulator command.
        logs: Directory for the simulator's output.
    """
    print(
        f"Fleet onboarding: {settings['fleet_concurrency']} in flight, "
        f"{settings['fleet_connections']} connections, latency {settings['fleet_latency_ms']:g} ms",
        flush=True,
    )
    return _fleet_rounds(
        settings,
        command,
        logs,
        scenario="fleet",
        sizes=settings["fleet_sizes"],
        clients=settings["clients"],
        options=_simulator_options(settings, settings["fleet_latency_ms"], on_qr=2),
    )


#: The clients of the full-load fleet: the official SDK spends over ten times raw aiohttp's CPU
#: per fleet instance, so a fleet at full load would take it minutes per round.
FULL_LOAD_CLIENTS = ("raw_aiohttp", "vzaps_async", "vzaps_async_sqlite")


def run_full_load(settings: dict[str, Any], command: list[str], logs: Path) -> list[dict[str, Any]]:
    """Scenario 2b, the fleet at full load: no simulator latency and phones that scan the first
    QR, so the clients' own work is what bounds the wall time (the official SDK left out).

    Args:
        settings: Run settings.
        command: Simulator command.
        logs: Directory for the simulator's output.
    """
    size = settings["full_load_size"]
    clients = [client for client in settings["clients"] if client in FULL_LOAD_CLIENTS]
    if not size or not clients:
        return []
    print(
        f"Fleet at full load: {size:,} instances, {settings['fleet_concurrency']} in flight, "
        f"{settings['fleet_connections']} connections, latency 0 ms, phones scan the first QR",
        flush=True,
    )
    return _fleet_rounds(
        settings,
        command,
        logs,
        scenario="fullload",
        sizes=[size],
        clients=clients,
        options=_simulator_options(settings, 0.0, on_qr=1),
    )


def run_startups(settings: dict[str, Any], command: list[str], logs: Path) -> list[dict[str, Any]]:
    """Scenario 3 for every round and client: import time, process start to first request.

    Args:
        settings: Run settings.
        command: Simulator command.
        logs: Directory for the simulator's output.
    """
    runs: list[dict[str, Any]] = []
    print("Start-up: import, and process start to the first send_text decoded", flush=True)
    with _simulator(command, ["--phones", "scan-after=0"], logs, settings) as sim:
        instance_id, instance_token = prepare_connected_instance(
            sim.base_url, CLIENT_TOKEN, CLIENT_SECRET
        )
        spec = {
            "base_url": sim.base_url,
            "client_token": CLIENT_TOKEN,
            "client_secret": CLIENT_SECRET,
            "instance_id": instance_id,
            "instance_token": instance_token,
        }
        clients = [c for c in STARTUP_CLIENTS if c in settings["clients"]]
        compile_sources()
        for client in clients:
            # Untimed: the files are in the page cache for every round.
            run_startup(spec, client)
        for round_number in range(1, settings["rounds"] + 1):
            for client in clients:
                try:
                    result: dict[str, Any] = run_startup(spec, client)
                except (RuntimeError, subprocess.SubprocessError) as exc:
                    result = {"failed": True, "error": str(exc)[:1000]}
                run = {
                    "scenario": "startup",
                    "round": round_number,
                    "client": client,
                    "what": "start-up",
                    "result": result,
                }
                shown = (
                    result.get("error")
                    if result.get("failed")
                    else f"import {result['import_ms']:.0f} ms, "
                    f"first request {result['first_request_ms']:.0f} ms"
                )
                print(f"  [round {round_number}] {CLIENT_LABELS[client]:<22} {shown}", flush=True)
                runs.append(run)
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and write ``results/latest.{json,md}`` and ``results/throughput.png``.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).
    """
    args = build_parser().parse_args(argv)
    settings = _settings(args)
    command = shlex.split(args.simulator_cmd)
    results_dir: Path = args.results_dir
    logs = results_dir / "logs"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    machine = machine_info()
    print(
        f"Machine: {machine['nproc']} CPUs, Python {machine['python']}, "
        + ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if v),
        flush=True,
    )
    runs: list[dict[str, Any]] = []
    problems: list[str] = []
    for scenario, runner in (
        ("startup", run_startups),
        ("requests", run_requests),
        ("fleet", run_fleets),
        ("fullload", run_full_load),
    ):
        if scenario not in settings["scenarios"]:
            continue
        try:
            runs += runner(settings, command, logs)
        except (SimulatorError, OSError) as exc:
            problems.append(f"{scenario}: {exc}")
            print(f"{scenario} scenario aborted: {exc}", file=sys.stderr, flush=True)
    request_rows = summarise(runs, "requests", "concurrency")
    fleet_rows = summarise(runs, "fleet", "instances")
    full_load_rows = summarise(runs, "fullload", "instances")
    startup_rows = summarise(runs, "startup", "what")
    report = {
        "started_at": started,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "settings": settings,
        "summary": {
            "requests": request_rows,
            "fleet": fleet_rows,
            "fullload": full_load_rows,
            "startup": startup_rows,
        },
        "targets": check_targets(request_rows, fleet_rows, startup_rows, full_load_rows),
        "problems": problems,
        "runs": runs,
    }
    markdown = render_markdown(report)
    print()
    print(markdown)
    if not args.no_write:
        results_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        text = json.dumps(report, indent=2, ensure_ascii=False)
        (results_dir / "latest.json").write_text(text + "\n", encoding="utf-8")
        (results_dir / f"run-{stamp}.json").write_text(text + "\n", encoding="utf-8")
        (results_dir / "latest.md").write_text(markdown, encoding="utf-8")
        if request_rows and write_chart(request_rows, results_dir / "throughput.png"):
            print(f"Chart: {results_dir / 'throughput.png'}")
        print(f"Report: {results_dir / 'latest.md'} and {results_dir / 'latest.json'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
