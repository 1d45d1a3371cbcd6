"""One client variant, run in its own process: ``python -m benchmarks._variant '<spec JSON>'``.

Prints one line ``BENCH_RESULT <json>`` on stdout: the figures, or ``{"failed": true, "error":
...}`` when the client could not run (the orchestrator reports it and carries on).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the scenario named by ``spec["scenario"]`` (``requests`` or ``fleet``).

    Args:
        spec: The scenario's settings (see `run_request_path` and `run_fleet`).
    """
    from ._measure import loopback_only

    loopback_only(spec["base_url"])
    if spec["scenario"] == "requests":
        from ._requests import run_request_path

        return run_request_path(spec)
    if spec["scenario"] == "fleet":
        from ._fleet import run_fleet

        return run_fleet(spec)
    raise ValueError(f"unknown scenario {spec['scenario']!r}")


def main(argv: list[str]) -> int:
    """Entry point of the variant process.

    Args:
        argv: ``[spec_json]``.
    """
    spec = json.loads(argv[0])
    if spec.get("cpu") is not None:
        os.sched_setaffinity(0, {int(spec["cpu"])})
    try:
        result: dict[str, Any] = {"failed": False, **run(spec)}
        status = 0
    except BaseException as exc:
        traceback.print_exc(file=sys.stderr)
        result = {"failed": True, "error": f"{type(exc).__name__}: {exc}"[:1000]}
        status = 1
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
