"""The example echo bot runs end to end against the embedded simulator."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import vzaps_async

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not hasattr(vzaps_async, "Client"), reason="vzaps_async.Client is not exported yet"
)
@pytest.mark.parametrize("mode", ["webhook", "realtime"])
async def test_echo_bot_answers_an_incoming_message(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The echo bot receives the injected message and sends the same text back."""
    echo_bot = _load("echo_bot")
    assert await echo_bot.main(mode) == 0
    out = capsys.readouterr().out
    assert "Ana wrote 'Olá, bot!'" in out
    assert "echo sent as message" in out
