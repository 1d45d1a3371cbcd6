"""``onboard --journal postgresql://... --job`` and ``vzaps-async fleet status``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _standalone import standalone_simulator

from vzaps_async import cli
from vzaps_async.onboarding._cli import main as onboard
from vzaps_async.onboarding._cli_supervise import main as supervise

FAST = ["--plain", "--poll-interval", "0.05", "--presenter", "none"]


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VZAPS_CLIENT_TOKEN", raising=False)
    monkeypatch.delenv("VZAPS_CLIENT_SECRET", raising=False)


def test_a_job_run_then_its_status_from_anywhere(
    postgres_dsn: str, job_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run on a job exits 0 with the job all connected; `fleet status --json` shows the
    states and the worker with the instances it onboarded, and the text form names them."""
    args = ["--simulate", "--journal", postgres_dsn, "--job", job_name, *FAST]
    assert onboard([*args, "--count", "4"]) == 0
    assert "job (4 instances): CONNECTED 4" in capsys.readouterr().out
    status = ["fleet", "status", "--journal", postgres_dsn, "--job", job_name]
    assert cli.main([*status, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["states"] == {"CONNECTED": 4}
    assert [(w["instances"], w["alive"]) for w in shown["workers"]] == [(4, False)]
    assert {"id", "host", "pid", "heartbeat_at"} <= set(shown["workers"][0])
    assert cli.main(status) == 0
    text = capsys.readouterr().out
    assert f"job {job_name}: 4 instances" in text
    assert "connected=4" in text
    # Joining the finished job without --count: nothing left, still all connected.
    assert onboard(args) == 0


def test_a_job_option_problem_exits_2_before_any_run(
    postgres_dsn: str, job_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--job without a database, a database without --job, and joining an unknown job are
    refused with exit 2 and one line naming the option."""
    assert onboard(["--simulate", "--count", "2", "--job", job_name, *FAST]) == 2
    assert "--job" in capsys.readouterr().err
    assert onboard(["--simulate", "--count", "2", "--journal", postgres_dsn, *FAST]) == 2
    assert "--job NAME" in capsys.readouterr().err
    assert onboard(["--simulate", "--journal", postgres_dsn, "--job", job_name, *FAST]) == 2
    assert "has no instances; start it with --count or --input" in capsys.readouterr().err
    assert onboard(["--simulate", *FAST]) == 2
    assert "--count/--input" in capsys.readouterr().err
    assert cli.main(["fleet", "status", "--journal", "x.db", "--job", job_name]) == 2
    assert cli.main(["fleet", "status", "--journal", postgres_dsn, "--job", job_name]) == 1
    assert f"no job {job_name!r}" in capsys.readouterr().err


def test_a_worker_with_a_different_input_is_refused_naming_the_instance(
    postgres_dsn: str,
    job_name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second worker whose input gives a known name other fields exits 2 naming it."""
    with standalone_simulator("--phones", "scan-after=0.05") as sim:
        for key, value in sim.items():
            monkeypatch.setenv(key, value)
        args = ["--journal", postgres_dsn, "--job", job_name, "--base-url", sim["VZAPS_BASE_URL"]]
        assert onboard([*args, *FAST, "--count", "2", "--prefix", "same"]) == 0
        capsys.readouterr()
        changed = tmp_path / "changed.csv"
        changed.write_text("name,phone\nsame-0001,5511999999999\n")
        assert onboard([*args, *FAST, "--input", str(changed)]) == 2
    err = capsys.readouterr().err
    assert "same-0001: the job" in err
    assert "already has an instance of this name with other fields" in err


WATCH = ["--presenter", "none", "--duration", "1", "--probe-interval", "0.1", "--grace", "0.5"]


def test_supervise_a_job_from_the_command_line(
    postgres_dsn: str,
    job_name: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`supervise --journal postgresql://... --job` watches the job's connected instances and
    exits 0; `onboard --supervise` on a job does the same after the fleet; --job without a
    database and a job with no instances exit 2 naming the option."""
    with standalone_simulator("--phones", "scan-after=0.05") as sim:
        for key, value in sim.items():
            monkeypatch.setenv(key, value)
        args = ["--journal", postgres_dsn, "--job", job_name, "--base-url", sim["VZAPS_BASE_URL"]]
        assert onboard([*args, *FAST, "--count", "2"]) == 0
        capsys.readouterr()
        assert supervise([*args, *WATCH]) == 0
        out = capsys.readouterr().out
        assert "Supervision summary" in out
        assert "│ supervised │         2 │" in out
        both = [*args[:3], f"{job_name}-both", *args[4:]]
        assert onboard([*both, *FAST, "--count", "2", "--supervise", *WATCH[2:]]) == 0
        assert "│ supervised │         2 │" in capsys.readouterr().out
        unknown = [*args[:3], f"{job_name}-none", *args[4:]]
        assert supervise([*unknown, *WATCH]) == 2
        assert "has no instances" in capsys.readouterr().err
    assert supervise(["--journal", "fleet.db", "--job", job_name]) == 2
    assert "--job: needs a postgresql://" in capsys.readouterr().err
