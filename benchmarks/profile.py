"""``python -m benchmarks.profile``: the request path of one client under pyinstrument.

Starts the simulator in its own process, runs scenario 1 in this process with the profiler on
around the timed loop only (after the warm-up), and writes an HTML and a text profile to
``benchmarks/results/profile-<client>-c<concurrency>.{html,txt}``.
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
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
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
    from ._requests import run_request_path

    results: Path = args.results_dir
    # Every CPU sample of the thread, across all worker tasks (not one task's await chain).
    profiler = Profiler(interval=args.interval, async_mode="disabled")
    simulator = SimulatorProcess(
        shlex.split(args.simulator_cmd),
        [
            "--client-token",
            CLIENT_TOKEN,
            "--client-secret",
            CLIENT_SECRET,
            "--phones",
            "scan-after=0",
        ],
        log_path=results / "logs" / "simulator.log",
    )
    with simulator as sim:
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
    results.mkdir(parents=True, exist_ok=True)
    stem = results / f"profile-{args.client}-c{args.concurrency}"
    stem.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    stem.with_suffix(".txt").write_text(text, encoding="utf-8")
    print(text)
    print(
        f"{CLIENT_LABELS[args.client]}: {figures['rps']:,.0f} req/s, "
        f"{figures['cpu_us_per_request']:,.0f} µs CPU/request (profiler overhead included), "
        f"errors {figures['errors']}"
    )
    print(f"Profiles: {stem}.html and {stem}.txt")
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
