"""``python -m benchmarks.profile``: one client under pyinstrument, request path or fleet.

Starts the simulator in its own process and runs one scenario in this process with the profiler
on around the measured part only: scenario 1's timed loop (after the warm-up), or a whole fleet
onboarding with the settings of ``make bench`` (500 in flight, 20 ms latency, phones scan the
2nd QR). Writes an HTML and a text profile to ``benchmarks/results/profile-<client>-c<N>`` or
``profile-<client>-fleet<N>`` (``.html``, ``.txt``). Samples are wall-clock: in the fleet, time
the client spends waiting shows up under ``select``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from ._report import CLIENT_LABELS
from ._sim import SimulatorProcess, prepare_connected_instance

CLIENT_TOKEN = "bench-client-token"
CLIENT_SECRET = "bench-client-secret"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: Sequence[str] | None = None) -> int:
    """Profile one client's request path and write the profiles.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--client", choices=list(CLIENT_LABELS), default="vzaps_async")
    parser.add_argument("--scenario", choices=["requests", "fleet"], default="requests")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--instances", type=int, default=2_000, help="fleet size")
    parser.add_argument("--interval", type=float, default=0.0002, help="sampling interval, s")
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument(
        "--simulator-cmd", default=f"{shlex.quote(sys.executable)} -m vzaps_async.testing"
    )
    args = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    from ._measure import loopback_only

    results: Path = args.results_dir
    # Every CPU sample of the thread, across all worker tasks (not one task's await chain).
    profiler = Profiler(interval=args.interval, async_mode="disabled")
    command = shlex.split(args.simulator_cmd)
    credentials = ["--client-token", CLIENT_TOKEN, "--client-secret", CLIENT_SECRET]
    log_path = results / "logs" / "simulator.log"
    if args.scenario == "fleet":
        from ._fleet import run_fleet

        fleet_options = [
            "--latency-ms", "20", "--phones", "scan-after=0.5,on-qr=2",
            "--first-qr-seconds", "1", "--qr-seconds", "1",
        ]  # fmt: skip
        with SimulatorProcess(command, credentials + fleet_options, log_path=log_path) as sim:
            loopback_only(sim.base_url)
            spec = {
                "client": args.client,
                "base_url": sim.base_url,
                "client_token": CLIENT_TOKEN,
                "client_secret": CLIENT_SECRET,
                "instances": args.instances,
                "concurrency": 500,
                "connections": 100,
                "poll_interval": 1.0,
                "name_prefix": "profile",
            }
            figures = run_fleet(spec, on_start=profiler.start, on_stop=profiler.stop)
        stem = results / f"profile-{args.client}-fleet{args.instances}"
        summary = (
            f"{figures['cpu_ms_per_instance']:.2f} ms CPU/instance (profiler overhead included), "
            f"connected {figures['connected']}/{args.instances}"
        )
        ok = figures["errors"] == 0
    else:
        from ._requests import run_request_path

        with SimulatorProcess(
            command, [*credentials, "--phones", "scan-after=0"], log_path=log_path
        ) as sim:
            loopback_only(sim.base_url)
            instance_id, instance_token = prepare_connected_instance(
                sim.base_url, CLIENT_TOKEN, CLIENT_SECRET
            )
            figures = run_request_path(
                {
                    "client": args.client,
                    "base_url": sim.base_url,
                    "client_token": CLIENT_TOKEN,
                    "client_secret": CLIENT_SECRET,
                    "instance_id": instance_id,
                    "instance_token": instance_token,
                    "requests": args.requests,
                    "concurrency": args.concurrency,
                },
                on_start=profiler.start,
                on_stop=profiler.stop,
            )
        stem = results / f"profile-{args.client}-c{args.concurrency}"
        summary = (
            f"{figures['rps']:,.0f} req/s, {figures['cpu_us_per_request']:,.0f} µs CPU/request "
            f"(profiler overhead included), errors {figures['errors']}"
        )
        ok = figures["errors"] == 0
    results.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    stem.with_suffix(".txt").write_text(text, encoding="utf-8")
    print(text)
    print(f"{CLIENT_LABELS[args.client]}: {summary}")
    print(f"Profiles: {stem}.html and {stem}.txt")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
