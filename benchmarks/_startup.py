"""Scenario 3, start-up: import time, and process start to the first `send_text` decoded.

Both figures come from fresh interpreters (``python -m benchmarks._startup``), so nothing is
imported or cached from an earlier run:

- *import*: ``time.perf_counter`` around ``import vzaps_async`` or ``import aiohttp`` alone,
  interpreter start-up excluded;
- *first request*: the parent's wall time from launching a process that builds the client,
  sends one ``send_text`` and prints its message id, to that process's exit (interpreter
  start-up, imports, the session, the JWT fetch for raw aiohttp, the connection and the call).

Both read the ``.pyc`` files an install writes (`compile_sources`), as aiohttp's are in
site-packages: without them every fresh process would compile the package again.
"""

from __future__ import annotations

import asyncio
import compileall
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["compile_sources", "run_startup"]

CLIENTS = ("vzaps_async", "raw_aiohttp")
_MODULE = {"vzaps_async": "vzaps_async", "raw_aiohttp": "aiohttp"}
REPO_ROOT = Path(__file__).resolve().parent.parent


def compile_sources() -> None:
    """Write the ``.pyc`` files of the package and of these benchmarks, as an install does.

    The first import after an edit would write them too, but not where ``PYTHONDONTWRITEBYTECODE``
    is set (as on some CI and shared machines); `compileall` writes them either way.
    """
    for package in ("vzaps_async", "benchmarks"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1)


def _import_ms(client: str) -> float:
    code = (
        "import time; started = time.perf_counter(); "
        f"import {_MODULE[client]}; print((time.perf_counter() - started) * 1000)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def _first_request_ms(client: str, spec: dict[str, Any]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._startup", client, json.dumps(spec)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"{client}: first request failed: {done.stderr[-800:]}")
    return elapsed


def run_startup(spec: dict[str, Any], client: str) -> dict[str, Any]:
    """Both start-up figures of one client, each from a fresh process.

    Args:
        spec: ``base_url``, ``client_token``, ``client_secret``, ``instance_id``,
            ``instance_token`` of a connected instance.
        client: ``vzaps_async`` or ``raw_aiohttp``.
    """
    return {
        "import_ms": _import_ms(client),
        "first_request_ms": _first_request_ms(client, {**spec, "concurrency": 1}),
    }


async def _one_request(client: str, spec: dict[str, Any]) -> str:
    # Imported here, inside the measured process: the factories import their client lazily.
    from ._requests import CLIENTS as FACTORIES

    send, close = await FACTORIES[client](spec)
    try:
        return await send()
    finally:
        await close()


if __name__ == "__main__":
    print(asyncio.run(_one_request(sys.argv[1], json.loads(sys.argv[2]))))
