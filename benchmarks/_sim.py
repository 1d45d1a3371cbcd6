"""The simulator in its own process, and the few plain-HTTP calls the orchestrator makes to it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["SimulatorError", "SimulatorProcess", "http_json", "prepare_connected_instance"]

_URL_PREFIX = "VZAPS_BASE_URL="


class SimulatorError(RuntimeError):
    """The simulator did not start, or answered something unexpected."""


class SimulatorProcess:
    """``python -m vzaps_async.testing`` (or another command) as a child process.

    The process is started by `start` (or ``with``), which waits for the ``VZAPS_BASE_URL=...``
    line it prints, and is always terminated (then killed) by `stop`.

    Args:
        command: The command, e.g. ``[python, "-m", "vzaps_async.testing"]``.
        options: Simulator options (``--latency-ms`` ...); ``--port 0`` is added.
        log_path: File receiving the simulator's output.
        start_timeout: Seconds to wait for the base URL line.
        cpu: The one CPU the process may run on (None: any).
    """

    def __init__(
        self,
        command: list[str],
        options: list[str],
        *,
        log_path: Path,
        start_timeout: float = 60.0,
        cpu: int | None = None,
    ) -> None:
        self.command = [*command, "--port", "0", *options]
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.cpu = cpu
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    def start(self) -> str:
        """Start the process and return its base URL."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")
        self._log.write(f"$ {' '.join(self.command)}\n")
        self._log.flush()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        if self.cpu is not None:
            os.sched_setaffinity(self._process.pid, {self.cpu})
        found = threading.Event()
        stdout = self._process.stdout
        assert stdout is not None
        log = self._log

        def pump() -> None:
            # Keeps the pipe drained for the whole life of the process.
            for line in stdout:
                log.write(line)
                log.flush()
                if not found.is_set() and line.startswith(_URL_PREFIX):
                    self.base_url = line[len(_URL_PREFIX) :].strip().rstrip("/")
                    found.set()

        threading.Thread(target=pump, name="simulator-stdout", daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        while not found.wait(0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                code = self._process.poll()
                self.stop()
                raise SimulatorError(
                    f"simulator did not print {_URL_PREFIX}... "
                    f"({'exited with ' + str(code) if code is not None else 'timed out'}); "
                    f"see {self.log_path}: {_tail(self.log_path)}"
                )
        return self.base_url

    def stop(self) -> None:
        """Terminate the process (kill it if it does not exit within 5 s). Safe to repeat."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._process.pid if self._process is not None else None

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds the simulator has used (from ``/proc/PID/stat``)."""
        if self._process is None:
            return None
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def counters(self) -> dict[str, Any] | None:
        """``GET /__sim/counters``, or None when the simulator does not serve it."""
        try:
            answer = http_json("GET", f"{self.base_url}/__sim/counters")
        except (SimulatorError, OSError):
            return None
        return answer if isinstance(answer, dict) else None

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _tail(path: Path, size: int = 600) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-size:]
    except OSError:
        return ""


def http_json(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Any:
    """One JSON request with the standard library; raises `SimulatorError` on a non-2xx answer.

    Args:
        method: HTTP method.
        url: Full URL.
        body: JSON body, if any.
        headers: Extra headers.
        timeout: Seconds.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise SimulatorError(f"{method} {url}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
    return json.loads(raw) if raw else None


def prepare_connected_instance(
    base_url: str, client_token: str, client_secret: str, *, timeout: float = 60.0
) -> tuple[str, str]:
    """Create, subscribe and pair one instance; return its id and token.

    Args:
        base_url: Simulator base URL.
        client_token: Account client token.
        client_secret: Account client secret.
        timeout: Seconds to wait for the simulated phone to scan.
    """
    token = http_json(
        "POST",
        f"{base_url}/token",
        {"client_token": client_token, "client_secret": client_secret},
    )
    account = {"Authorization": f"Bearer {token['access_token']}", "X-Client-Token": client_token}
    created = http_json("PUT", f"{base_url}/instances/create", {"name": "bench-sender"}, account)
    instance_id, instance_token = created["id"], created["token"]
    http_json("POST", f"{base_url}/instances/{instance_id}/subscribe", {}, account)
    own = {"X-Instance-Token": instance_token, "X-Client-Token": client_token}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = http_json("GET", f"{base_url}/instances/{instance_id}/session/qr", headers=own)
        if answer["data"].get("status") == "connected":
            return instance_id, instance_token
        time.sleep(0.1)
    raise SimulatorError(f"the benchmark instance did not connect within {timeout:.0f} s")
