"""The README runs as written: its Python snippets run against the simulator and pass mypy
--strict, and its curl walkthrough runs against a standalone simulator."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from vzaps_async import Client
from vzaps_async.testing import Simulator

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: A fenced block, with the HTML comment right before it (``<!-- readme: typecheck-only ... -->``).
_BLOCK = re.compile(
    r"(?:<!-- readme: (?P<mark>[\w-]+)[^>]*-->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S
)
#: Names a README fragment uses without defining them; the test binds them (and mypy sees them).
_PRELUDE = """\
from vzaps_async import Client, Instance
client: Client
inst: Instance
instance_id: str
token: str
"""


def _blocks(lang: str) -> list[tuple[int, str, str | None]]:
    return [
        (README[: m.start("code")].count("\n") + 1, m["code"], m["mark"])
        for m in _BLOCK.finditer(README)
        if m["lang"] == lang
    ]


PYTHON = _blocks("python")


def _is_fragment(code: str) -> bool:
    # Code with a top-level await (or async with) is a fragment of a coroutine.
    try:
        compile(code, "README", "exec", dont_inherit=True)
    except SyntaxError:
        return True
    return False


@pytest.fixture
def sim_env(live_sim: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Simulator:
    """The `live_sim` simulator, with the current folder a temp folder."""
    monkeypatch.chdir(tmp_path)
    return live_sim


async def _run_fragment(code: str, line: int) -> None:
    async with Client.from_env() as client:
        created = await client.instances.create(f"readme-{line}")
        assert created.token is not None
        namespace: dict[str, Any] = {
            "client": client,
            "instance_id": created.id,
            "token": created.token.reveal(),
            "inst": client.instance(created.id, created.token),
        }
        # Earlier snippets imported these; a fragment may use them.
        exec("from vzaps_async import Client, Instance", namespace)
        compiled = compile(code, f"README.md:{line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(compiled, namespace)
        if asyncio.iscoroutine(result):
            await result


def test_the_readme_has_python_snippets_to_check() -> None:
    """The extraction finds the README's Python examples (a broken pattern would check none)."""
    assert len(PYTHON) >= 9
    assert sum(mark is None for _, _, mark in PYTHON) >= 7


@pytest.mark.parametrize(
    ("line", "code"),
    [pytest.param(line, code, id=f"line-{line}") for line, code, mark in PYTHON if mark is None],
)
def test_a_readme_python_snippet_runs_against_the_simulator(
    line: int, code: str, sim_env: Simulator
) -> None:
    """Each runnable README snippet runs as written against a simulator (a fragment with a
    client, instance id, token and handle bound to a fresh instance; a test function is called)."""
    if _is_fragment(code):
        asyncio.run(_run_fragment(code, line))
        return
    namespace: dict[str, Any] = {"__name__": "readme_snippet"}
    exec(compile(code, f"README.md:{line}", "exec"), namespace)
    for name, value in namespace.items():
        if name.startswith("test_") and asyncio.iscoroutinefunction(value):
            asyncio.run(value())
    client = namespace.get("client")
    if isinstance(client, Client):
        asyncio.run(client.aclose())


def test_every_readme_python_snippet_passes_mypy_strict(tmp_path: Path) -> None:
    """Every README snippet, runnable or not, type-checks with mypy --strict (fragments inside a
    coroutine that has a client, instance id, token and handle)."""
    files = []
    for line, code, _ in PYTHON:
        if _is_fragment(code):
            body = textwrap.indent(code, "    ")
            source = f"{_PRELUDE}\n\nasync def _snippet() -> None:\n{body}"
        else:
            source = code
        path = tmp_path / f"readme_line_{line}.py"
        path.write_text(source, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), *files],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq", "base64")),
    reason="the walkthrough needs bash, curl, jq and base64",
)
def test_the_readme_curl_walkthrough_runs_against_a_standalone_simulator(tmp_path: Path) -> None:
    """The shell walkthrough, run as written (on a free port), waits for the simulator, gets a
    real PNG QR code and ends connected."""
    [walkthrough] = [code for _, code, _ in _blocks("sh") if "session/qr" in code]
    port = _free_port()
    script = walkthrough.replace("8080", str(port)).replace("python -m", f"{sys.executable} -m")
    # Stop the background simulator however the script ends: it holds the output pipes open.
    script = "trap 'kill $(jobs -p) 2> /dev/null' EXIT\n" + script
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        # Should the script fail half-way, its background simulator is still running.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, err
    assert '"direct"' in out
    assert '"connected":true' in out
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")
