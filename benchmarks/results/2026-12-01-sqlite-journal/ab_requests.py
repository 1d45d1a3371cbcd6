"""Instructions per ``send_text`` for two source trees, counted by callgrind (deterministic).

Usage (from the repository root, with the project's venv):
    python benchmarks/results/2026-12-01-sqlite-journal/ab_requests.py OLD_TREE [c] [clients]
Runs `benchmarks._variant`'s request scenario under ``valgrind --tool=callgrind`` with 300 and
1,300 requests for each tree and each client (vzaps_async, raw_aiohttp), and reports
(Ir(1300) - Ir(300)) / 1000: the client process's instructions per request, start-up and
imports excluded. OLD_TREE holds ``git archive <commit>`` of the "before" code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import CLIENT_SECRET, CLIENT_TOKEN, _simulator
from benchmarks._sim import prepare_connected_instance

CLIENTS = ("vzaps_async", "raw_aiohttp")


def instructions(tree: Path, spec: dict[str, object]) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", "benchmarks._variant", json.dumps(spec)],
        cwd=tree, capture_output=True, text=True, check=False, timeout=1200,
    )  # fmt: skip
    if "BENCH_RESULT" not in done.stdout or '"failed": true' in done.stdout:
        raise RuntimeError(done.stdout[-500:] + done.stderr[-1500:])
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-1500:])
    return int(found.group(1))


def main() -> None:
    old = Path(sys.argv[1])
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    command = [sys.executable, "-m", "vzaps_async.testing"]
    with _simulator(command, ["--phones", "scan-after=0"], Path("/tmp")) as sim:
        instance_id, token = prepare_connected_instance(sim.base_url, CLIENT_TOKEN, CLIENT_SECRET)
        for client in sys.argv[3].split(",") if len(sys.argv) > 3 else CLIENTS:
            for label, tree in (("before", old), ("after", Path.cwd())):
                counts = []
                for requests in (300, 1300):
                    spec = {
                        "scenario": "requests", "client": client, "base_url": sim.base_url,
                        "client_token": CLIENT_TOKEN, "client_secret": CLIENT_SECRET,
                        "instance_id": instance_id, "instance_token": token,
                        "requests": requests, "concurrency": concurrency,
                    }  # fmt: skip
                    counts.append(instructions(tree, spec))
                per_request = (counts[1] - counts[0]) / 1000
                print(f"c={concurrency} {client} {label}: {per_request:,.0f} instructions/request")


if __name__ == "__main__":
    main()
