"""The ``onboard`` command: simulated runs, inputs, results files and exit codes."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from vzaps_async._secret import Secret
from vzaps_async.errors import InputError
from vzaps_async.onboarding import Snapshot, State
from vzaps_async.onboarding._cli import (
    ONBOARDING_STATES,
    load_specs,
    main,
    state_table,
    write_results,
)
from vzaps_async.testing import PhonePolicy, Simulator


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Default paths (./vzaps-fleet.db, ./qr-codes) land in the test's own folder.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VZAPS_CLIENT_TOKEN", raising=False)
    monkeypatch.delenv("VZAPS_CLIENT_SECRET", raising=False)


def test_simulated_run_connects_all_and_writes_private_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A simulated run exits 0 with every instance connected and a 0600 results file."""
    output = tmp_path / "results.json"
    code = main(
        ["--simulate", "--count", "3", "--plain", "--poll-interval", "0.05",
         "--output", str(output), "--include-tokens"]
    )  # fmt: skip
    assert code == 0
    records = json.loads(output.read_text())
    assert [r["name"] for r in records] == ["fleet-0001", "fleet-0002", "fleet-0003"]
    assert all(r["state"] == "CONNECTED" and r["token"] for r in records)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert "CONNECTED" in out
    assert "summary" in out


def test_results_leave_tokens_out_unless_asked(tmp_path: Path) -> None:
    """Without --include-tokens the CSV results carry no token column; the journal resumes."""
    output = tmp_path / "results.csv"
    journal = tmp_path / "fleet.db"
    args = ["--simulate", "--count", "2", "--plain", "--poll-interval", "0.05"]
    assert main([*args, "--journal", str(journal), "--output", str(output)]) == 0
    header = output.read_text().splitlines()[0]
    assert "token" not in header
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600


def test_input_file_rows_with_phone_use_pair_code(tmp_path: Path) -> None:
    """CSV and JSON inputs become specs; a row with a phone defaults to the pair code."""
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("name,phone\nshop-a,\nshop-b,5511999990001\n")
    specs = load_specs(csv_file)
    assert [(s.name, s.method, s.phone) for s in specs] == [
        ("shop-a", "qr", None),
        ("shop-b", "pair_code", "5511999990001"),
    ]
    json_file = tmp_path / "in.json"
    json_file.write_text(json.dumps([{"name": "shop-c", "webhook": "https://example.com/h"}]))
    [spec] = load_specs(json_file)
    assert spec.create_options == {"webhook": "https://example.com/h"}


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid input file is reported and exits with status 2."""
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nx\n")
    assert main(["--input", str(bad)]) == 2
    assert "name" in capsys.readouterr().err


def test_results_replace_a_loose_existing_file_whole(tmp_path: Path) -> None:
    """Results written over a world-readable file end 0600, complete, with no temp file left."""
    output = tmp_path / "results.json"
    output.write_text("old content that is longer than nothing\n")
    output.chmod(0o644)
    snap = Snapshot(name="shop-1", state=State.CREATED, instance_id="VZ1", token=Secret("t" * 20))
    write_results(output, [snap], include_tokens=True)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert json.loads(output.read_text())[0]["token"] == "t" * 20
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_base_url_without_credentials_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--base-url with no credentials in the environment exits 2 instead of simulating."""
    assert main(["--count", "1", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "VZAPS_CLIENT_TOKEN" in capsys.readouterr().err


def _creates(simulator: Simulator) -> int:
    return sum(simulator.counters.instances_created.values())


def test_an_invalid_phone_exits_2_before_any_instance_is_created(
    tmp_path: Path, live_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV row whose phone is not a phone number exits 2 on one line naming the file, row and
    field, and the simulator counts no create."""
    shops = tmp_path / "shops.csv"
    shops.write_text("name,phone\nshop-001,5511999990001\nshop-002,12\n")
    code = main(["--input", str(shops), "--plain", "--journal", str(tmp_path / "j.db")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert _creates(live_sim) == 0
    assert err.count("\n") == 0
    assert f"{shops} row 3, phone" in err
    assert "country code + digits" in err


def test_an_output_in_a_missing_folder_exits_2_before_any_instance_is_created(
    tmp_path: Path, live_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output into a folder that does not exist exits 2, naming the option, before any create."""
    output = tmp_path / "missing" / "r.json"
    code = main(["--count", "2", "--plain", "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2
    assert _creates(live_sim) == 0
    assert "--output" in err
    assert "does not exist" in err
    assert "Traceback" not in err


def test_a_run_against_a_live_simulator_connects_all_and_exits_0(
    tmp_path: Path, live_sim: Simulator
) -> None:
    """With credentials and --base-url, a fleet run exits 0 once every instance connected."""
    code = main(
        ["--count", "2", "--plain", "--poll-interval", "0.05", "--presenter", "none",
         "--journal", str(tmp_path / "j.db")]
    )  # fmt: skip
    assert code == 0
    assert _creates(live_sim) == 2


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ("phone\n5511999990001\n", ".csv", "has no 'name' column"),
        ("\ufeffname\nshop-01\n", ".csv", None),
        ("Name,Phone\nshop-01,+55 11 99999-0001\n", ".csv", None),
        ("name;phone\nshop-01;5511999990001\n", ".csv", None),
        ('[{"name": "shop-01"}]', ".txt", None),
        ("", ".csv", "is empty"),
        ("name,phone\n", ".csv", "lists no instances"),
        ("[]", ".json", "lists no instances"),
        ("name\nshop-01\nshop-01\n", ".csv", "row 3: name 'shop-01' is already used on row 2"),
        ("name,colour\nshop-01,red\n", ".csv", "header: unknown column 'colour'"),
        ("name\nshop-01,extra\n", ".csv", "row 2: has 2 fields"),
        ('[{"phone": "5511999990001"}]', ".json", "item 0: has no name"),
        ('{"name": "x"', ".json", "is not valid JSON"),
        ("name,webhook\nshop-01,ftp://x\n", ".csv", "row 2, webhook"),
    ],
)
def test_input_files_are_read_leniently_and_refused_with_the_file_and_row(
    tmp_path: Path, content: str, suffix: str, expected: str | None
) -> None:
    """BOMs, header case, ';' and JSON in any file are read; every problem names the file and
    the header, row or item, with the fix."""
    path = tmp_path / f"in{suffix}"
    path.write_text(content, encoding="utf-8")
    if expected is None:
        [spec] = load_specs(path)
        assert spec.name == "shop-01"
        assert spec.phone in (None, "5511999990001")
        return
    with pytest.raises(InputError) as caught:
        load_specs(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--count", "0"], "--count"),
        (["--count", "1", "--concurrency", "0"], "--concurrency"),
        (["--count", "1", "--deadline", "0"], "--deadline"),
        (["--count", "1", "--poll-interval", "nan"], "--poll-interval"),
        (["--count", "1", "--presenter", "web", "--web-port", "99999"], "--web-port"),
        (["--count", "1", "--output", "results.txt"], "--output"),
        (["--count", "1", "--journal", "/nonexistent/dir/j.db"], "--journal"),
        (["--count", "1", "--presenter", "png", "--png-folder", "/proc/nope"], "--png-folder"),
    ],
)
def test_bad_options_exit_2_on_one_line_naming_the_option(
    args: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each unusable option is refused before any work: exit 2, one line naming it."""
    assert main([*args, "--simulate", "--plain"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"vzaps-async onboard: {option}")
    assert "\n" not in err


def test_a_web_port_in_use_exits_2_naming_the_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A --web-port another program listens on exits 2 on one line, with nothing run."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["--simulate", "--count", "1", "--plain", "--presenter", "web",
                     "--web-port", str(port)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"--web-port: cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_a_simulated_journal_from_an_earlier_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rerunning --simulate on a journal whose instances lived in a simulator that is gone exits
    2 (instead of failing every instance with HTTP 401), saying how to resume instead."""
    journal = tmp_path / "j.db"
    args = ["--simulate", "--count", "1", "--plain", "--poll-interval", "0.05"]
    assert main([*args, "--journal", str(journal)]) == 0
    capsys.readouterr()
    assert main([*args, "--journal", str(journal)]) == 2
    err = capsys.readouterr().err
    assert "in-process simulator is gone" in err
    assert "--base-url" in err


def test_missing_cli_extra_is_named_before_any_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without rich (the core install), onboard exits 2 naming pip install 'vzaps-async[cli]'."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "rich" else real(name, *a)
    )
    assert main(["--simulate", "--count", "1"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'vzaps-async[cli]'" in err
    assert "rich" in err


@pytest.mark.parametrize("width", [80, 120])
def test_the_live_table_shows_every_state_header_whole(width: int) -> None:
    """At 80 columns (and wider) every state's header is shown in full, none cut to 'SUBSCR…'."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(state_table({State.SUBSCRIBED: 3}, 3, width))
    text = console.export_text()
    assert all(state.value in text for state in ONBOARDING_STATES)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width


def test_ctrl_c_exits_130_and_a_simulated_run_does_not_promise_a_resume(tmp_path: Path) -> None:
    """SIGINT during a --simulate run exits 130 and says there is nothing to resume (the
    in-process simulator is gone), instead of "run again to resume"."""
    import os
    import signal
    import subprocess
    import sys

    # 2,000 instances: still running when the SIGINT arrives, however loaded the machine.
    proc = subprocess.Popen(
        [sys.executable, "-m", "vzaps_async", "onboard", "--simulate", "--count", "2000", "--plain",
         "--deadline", "60"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("VZAPS_")},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "->" in proc.stdout.readline()  # the fleet is running
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "nothing to resume" in err
    assert "run again to resume" not in err
    assert "Traceback" not in err


def test_a_run_where_some_instance_does_not_connect_exits_1(
    tmp_path: Path, live_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """When an instance does not connect (here: no phone links it within --deadline), the run
    exits 1 and its summary lists it."""
    live_sim.state.phones = PhonePolicy.manual()
    shops = tmp_path / "shops.csv"
    shops.write_text("name,phone\nshop-001,5511999990001\n")
    code = main(["--input", str(shops), "--plain", "--poll-interval", "0.05", "--deadline", "1",
                 "--presenter", "none", "--journal", str(tmp_path / "j.db")])  # fmt: skip
    assert code == 1
    assert _creates(live_sim) == 1
    assert "Not connected" in capsys.readouterr().out
