"""Start-up of two source trees and of raw aiohttp, side by side: callgrind counts and wall time.

Usage (from the repository root, with the project's venv):
    python benchmarks/results/2026-12-01-lazy-import/ab_startup.py OLD [rounds] [--no-callgrind]
OLD holds ``git archive <commit>`` of the "before" code; "after" is the working tree. Both
trees get their ``.pyc`` files first (``compileall``, what an install does), so neither pays for
compiling. Then, with one simulator on 127.0.0.1:

- callgrind (deterministic): instructions of ``python -c "import X"`` minus ``python -c pass``
  for aiohttp and each tree's vzaps_async, and of the whole first-request process
  (``python -m benchmarks._startup CLIENT SPEC``: interpreter start, imports, session, one
  ``send_text`` decoded) for raw aiohttp and each tree's vzaps_async, and the modules each
  import adds to ``sys.modules``;
- wall time, ``rounds`` rounds alternating (before, after, raw aiohttp), each figure from a
  fresh process: the `benchmarks._startup` figures (import ms, first request ms, same
  definitions) and the CPU time of the same processes; medians and the per-round figures.
"""

from __future__ import annotations

import compileall
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.__main__ import CLIENT_SECRET, CLIENT_TOKEN, _simulator
from benchmarks._sim import prepare_connected_instance


def compile_tree(tree: Path) -> None:
    for package in ("vzaps_async", "benchmarks"):
        compileall.compile_dir(tree / package, quiet=1)


def instructions(tree: Path, args: list[str]) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *args],
        cwd=tree, capture_output=True, text=True, check=True, timeout=1200,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-1500:])
    return int(found.group(1))


def modules_added(tree: Path, module: str) -> int:
    code = f"import sys; n = len(sys.modules); import {module}; print(len(sys.modules) - n)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def wall(tree: Path, client: str, spec: dict[str, object]) -> dict[str, float]:
    # The two figures of `benchmarks._startup` (same definitions), each with the CPU time
    # (user + system) of its process, which a loaded machine disturbs less than wall time.
    module = "aiohttp" if client == "raw_aiohttp" else "vzaps_async"
    code = (
        "import time; started, cpu = time.perf_counter(), time.process_time(); "
        f"import {module}; "
        "print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=True
    )
    import_ms, import_cpu_ms = map(float, done.stdout.split())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "benchmarks._startup", client, json.dumps(spec)],
        cwd=tree, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    first_ms = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    first_cpu_ms = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return {
        "import_ms": import_ms,
        "import_cpu_ms": import_cpu_ms,
        "first_request_ms": first_ms,
        "first_request_cpu_ms": first_cpu_ms,
    }


def main() -> None:
    old, new = Path(sys.argv[1]).resolve(), Path.cwd()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 5
    with_callgrind = "--no-callgrind" not in sys.argv
    compile_tree(old)
    compile_tree(new)
    kinds = (
        ("before", old, "vzaps_async"),
        ("after", new, "vzaps_async"),
        ("raw", new, "raw_aiohttp"),
    )
    command = [sys.executable, "-m", "vzaps_async.testing"]
    with _simulator(command, ["--phones", "scan-after=0"], Path("/tmp")) as sim:
        instance_id, token = prepare_connected_instance(sim.base_url, CLIENT_TOKEN, CLIENT_SECRET)
        spec = {
            "base_url": sim.base_url, "client_token": CLIENT_TOKEN,
            "client_secret": CLIENT_SECRET, "instance_id": instance_id,
            "instance_token": token, "concurrency": 1,
        }  # fmt: skip
        if with_callgrind:
            base = instructions(new, ["-c", "pass"])
            print(f"callgrind python -c pass: {base / 1e6:,.0f} M instructions", flush=True)
            for label, tree, client in kinds:
                module = "aiohttp" if client == "raw_aiohttp" else "vzaps_async"
                imported = instructions(tree, ["-c", f"import {module}"]) - base
                first = instructions(tree, ["-m", "benchmarks._startup", client, json.dumps(spec)])
                print(
                    f"callgrind {label:<6} import {module}: {modules_added(tree, module)} modules, "
                    f"{imported / 1e6:,.0f} M instructions; first request process: "
                    f"{first / 1e6:,.0f} M instructions",
                    flush=True,
                )
        figures: dict[str, dict[str, list[float]]] = {k[0]: {} for k in kinds}
        for _, tree, client in kinds:
            wall(tree, client, spec)  # untimed warm-up (file cache)
        for round_number in range(1, rounds + 1):
            for label, tree, client in kinds:
                for what, value in wall(tree, client, spec).items():
                    figures[label].setdefault(what, []).append(value)
                    print(f"round {round_number} {label:<6} {what}: {value:.1f}", flush=True)
        for what in ("import_ms", "import_cpu_ms", "first_request_ms", "first_request_cpu_ms"):
            raw = statistics.median(figures["raw"][what])
            for label, _, _ in kinds:
                values = figures[label][what]
                median = statistics.median(values)
                print(
                    f"median {what:<21} {label:<6} {median:7.1f} ms  x{median / raw:.2f} raw  "
                    f"(rounds: {', '.join(f'{v:.0f}' for v in values)})"
                )


if __name__ == "__main__":
    main()
