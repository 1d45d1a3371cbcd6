"""A standalone simulator process (``python -m vzaps_async.testing``) for multi-process tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

from vzaps_async.onboarding import Snapshot


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


def assert_connected(simulator: dict[str, str], snapshots: Iterable[Snapshot]) -> None:
    """Each snapshot's instance token reads ``connected`` from the simulator's session/status.

    Args:
        simulator: The VZAPS_* variables of `standalone_simulator`.
        snapshots: The journal's snapshots.
    """
    for snap in snapshots:
        assert snap.token is not None
        status = get(
            f"{simulator['VZAPS_BASE_URL']}/instances/{snap.instance_id}/session/status",
            {
                "X-Instance-Token": snap.token.reveal(),
                "X-Client-Token": simulator["VZAPS_CLIENT_TOKEN"],
            },
        )
        assert status["data"]["connected"] is True


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
