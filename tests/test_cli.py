"""The ``vzaps-async`` command: help, version, exit codes and missing extras."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from vzaps_async import cli
from vzaps_async._extras import MissingExtraError
from vzaps_async.errors import JournalError
from vzaps_async.testing import Simulator
from vzaps_async.testing.__main__ import main as simulator_main


@pytest.fixture
def no_segno(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make segno look uninstalled, as on the core install."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "segno" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_help_lists_the_exit_codes_and_version_prints_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--help exits 0 listing every exit code; --version prints the installed version."""
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"  {code}" in out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("vzaps-async 0.")


@pytest.mark.parametrize("argv", [[], ["nope"], ["webhook"], ["webhook", "listen"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """No command, an unknown command or an incomplete webhook command exit 2 with the usage."""
    assert cli.main(argv) == 2
    assert "usage: vzaps-async" in capsys.readouterr().err


def test_webhook_help_shows_the_serve_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`vzaps-async webhook --help` exits 0 and lists serve's options."""
    assert cli.main(["webhook", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--secret" in out
    assert "--max-body" in out


def test_simulator_help_names_the_command_it_was_run_as(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`vzaps-async simulator --help` shows `vzaps-async simulator` in its usage."""
    with pytest.raises(SystemExit) as caught:
        cli.main(["simulator", "--help"])
    assert caught.value.code == 0
    assert "usage: vzaps-async simulator" in capsys.readouterr().out


def test_a_journal_error_exits_2_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A journal that cannot be used is reported like bad input: one line, exit 2."""

    def refuse(argv: list[str]) -> int:
        raise JournalError("fleet.db", "is not a database")

    monkeypatch.setitem(cli._COMMANDS, "status", refuse)
    assert cli.main(["status"]) == 2
    assert capsys.readouterr().err == "vzaps-async status: journal fleet.db: is not a database\n"


def test_a_line_break_in_a_credential_exits_2_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pasted CRLF in the client secret is an InputError naming the variable, never its value."""
    monkeypatch.setenv("VZAPS_CLIENT_TOKEN", "ct_live_1234567890")
    monkeypatch.setenv("VZAPS_CLIENT_SECRET", "cs_live_abcdefghijk\r\n")
    monkeypatch.setenv("VZAPS_BASE_URL", "http://127.0.0.1:9")
    assert cli.main(["status"]) == 2
    err = capsys.readouterr().err
    assert "client_secret" in err
    assert "line break" in err
    assert "abcdefghijk" not in err


@pytest.mark.usefixtures("no_segno")
def test_the_standalone_simulator_refuses_without_segno(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without segno the standalone simulator exits 2 at start naming vzaps-async[testing]."""
    assert simulator_main(["--port", "0"]) == 2
    assert "pip install 'vzaps-async[testing]'" in capsys.readouterr().err


@pytest.mark.usefixtures("no_segno")
async def test_the_in_process_simulator_refuses_without_segno() -> None:
    """Starting a Simulator without segno raises at once, naming the extra, instead of
    answering HTTP 500 on the first QR code."""
    with pytest.raises(MissingExtraError, match=r"vzaps-async\[testing\]"):
        async with Simulator():
            pass


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["webhook", "serve", "--port", "99999"], "--port must be 0-65535"),
        (["webhook", "serve", "--concurrency", "0"], "concurrency must be positive"),
    ],
)
def test_webhook_serve_refuses_bad_options_on_one_line(
    argv: list[str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unusable webhook serve option exits 2 with one line naming it, before serving."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert text in err
    assert err.count("\n") == 1


def test_onboard_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """`vzaps-async onboard --help` exits 0 and documents exit codes 0, 1, 2 and 130."""
    with pytest.raises(SystemExit) as caught:
        cli.main(["onboard", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"  {code}" in out
