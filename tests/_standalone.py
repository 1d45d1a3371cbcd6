"""A standalone simulator process (``python -m vzaps_async.testing``) for multi-process tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any


def get(url: str, headers: dict[str, str] | None = None) -> Any:
    """GET a JSON document."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def post(url: str, body: dict[str, Any]) -> Any:
    """POST a JSON document; return the JSON answer."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def standalone_simulator(*options: str) -> Iterator[dict[str, str]]:
    """Run the simulator as its own process; yield the VZAPS_* variables it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vzaps_async.testing", "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    env: dict[str, str] = {}
    try:
        while len(env) < 4:
            line = process.stdout.readline()
            assert line, "the simulator exited before printing its address"
            key, _, value = line.strip().partition("=")
            env[key] = value
        yield env
    finally:
        process.terminate()
        process.wait(timeout=10)
