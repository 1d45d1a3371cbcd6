"""A/B the fleet scenario between two source trees, alternating, one fresh simulator per run.

Usage (from the repository root, with the project's venv):
    python benchmarks/results/2026-12-01-sqlite-journal/ab_fleet.py OLD_TREE [rounds] [instances]
OLD_TREE holds ``git archive <commit>`` of the "before" code; "after" is this checkout. Both run
`benchmarks._variant` with the `make bench` fleet settings (500 in flight, 20 ms latency, phones
scan the 2nd QR) and the client ``vzaps_async_sqlite``; the variant's working directory decides
which ``vzaps_async`` it imports.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.__main__ import CLIENT_SECRET, CLIENT_TOKEN, _simulator
from benchmarks._variant import RESULT_PREFIX

HERE = Path.cwd()


def variant(tree: Path, spec: dict[str, object]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._variant", json.dumps(spec)],
        cwd=tree, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith(RESULT_PREFIX))
    result: dict[str, float] = json.loads(line[len(RESULT_PREFIX) :])
    if result.get("failed"):
        raise RuntimeError(result)
    return result


def main() -> None:
    old = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    command = [sys.executable, "-m", "vzaps_async.testing"]
    options = ["--latency-ms", "20", "--phones", "scan-after=0.5,on-qr=2",
               "--first-qr-seconds", "1", "--qr-seconds", "1"]  # fmt: skip
    keys = ("cpu_ms_per_instance", "wall_s", "peak_rss_kib")
    rows: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as logs:
        for number in range(rounds):
            for label, tree in (("before", old), ("after", HERE)):
                spec = {
                    "scenario": "fleet", "client": "vzaps_async_sqlite",
                    "client_token": CLIENT_TOKEN, "client_secret": CLIENT_SECRET,
                    "instances": size, "concurrency": 500, "connections": 100,
                    "poll_interval": 1.0, "phase_concurrency": None,
                    "name_prefix": f"ab-{label}-{number}",
                }  # fmt: skip
                with _simulator(command, options, Path(logs)) as sim:
                    spec["base_url"] = sim.base_url
                    result = variant(tree, spec)
                rows[label].append(result)
                print(label, {k: result.get(k) for k in keys}, flush=True)
    print(f"fleet of {size}, vzaps_async_sqlite, {rounds} alternating rounds, median (min-max):")
    for label, results in rows.items():
        parts = []
        for key in keys:
            values = [float(r[key]) for r in results]
            parts.append(
                f"{key} {statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"
            )
        print(f"  {label}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
