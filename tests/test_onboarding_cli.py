"""The ``onboard`` command: simulated runs, inputs, results files and exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from vzaps_async._secret import Secret
from vzaps_async.onboarding import Snapshot, State
from vzaps_async.onboarding._cli import load_specs, main, write_results


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
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
