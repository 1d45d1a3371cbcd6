"""Smoke test of the benchmark harness: a tiny request-path run end to end, and the summaries."""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
from pathlib import Path

from benchmarks.__main__ import main
from benchmarks._measure import percentile
from benchmarks._report import check_targets, summarise


def test_request_path_run_writes_a_report_with_zero_errors(tmp_path: Path) -> None:
    """A 200-request run at concurrency 4 reports every client's figures with no errors."""
    clients = ["vzaps_async", "raw_aiohttp"]
    if importlib.util.find_spec("vzaps") is not None:
        clients.append("vzaps_official")
    status = main(
        [
            "--scenarios", "requests",
            "--clients", ",".join(clients),
            "--requests", "200",
            "--concurrency", "4",
            "--rounds", "1",
            "--results-dir", str(tmp_path),
            # This suite's simulators are strict: every client's send_text is the documented form.
            "--simulator-cmd", f"{shlex.quote(sys.executable)} -m vzaps_async.testing --strict",
        ]
    )  # fmt: skip
    assert status == 0
    report = json.loads((tmp_path / "latest.json").read_text())
    assert {"machine", "settings", "summary", "targets", "runs"} <= set(report)
    assert report["machine"]["nproc"] >= 1
    assert report["machine"]["packages"]["aiohttp"]
    rows = report["summary"]["requests"]
    assert [row["client"] for row in rows] == clients
    for row in rows:
        assert not row["failed"], row["error"]
        assert row["errors"] == 0
        assert row["concurrency"] == 4
        assert row["rps"] > 0
        assert row["cpu_us_per_request"] > 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert 1 <= row["connections_opened"] <= 4
    raw = next(row for row in rows if row["client"] == "raw_aiohttp")
    assert raw["cpu_x_raw"] == 1.0
    assert raw["cpu_x_raw_per_round"] == [1.0]
    for run in report["runs"]:
        assert run["result"]["simulator"]["requests"] >= 200
    markdown = (tmp_path / "latest.md").read_text()
    assert "| 4 | (a) vzaps_async |" in markdown
    assert "| target | this run | met | same-round ratios |" in markdown


def test_startup_run_reports_import_and_first_request_for_both_clients(tmp_path: Path) -> None:
    """The start-up scenario reports, per client, the import time and the time to a first
    decoded send_text, with ratios to raw aiohttp and the two targets judged."""
    status = main(
        [
            "--scenarios", "startup",
            "--clients", "vzaps_async,raw_aiohttp",
            "--rounds", "1",
            "--results-dir", str(tmp_path),
            "--simulator-cmd", f"{shlex.quote(sys.executable)} -m vzaps_async.testing --strict",
        ]
    )  # fmt: skip
    assert status == 0
    report = json.loads((tmp_path / "latest.json").read_text())
    rows = report["summary"]["startup"]
    assert [row["client"] for row in rows] == ["vzaps_async", "raw_aiohttp"]
    for row in rows:
        assert not row["failed"], row["error"]
        # Both are measured (in separate processes); how they compare is for the benchmark to
        # show, not for a unit test to assert on a loaded machine.
        assert row["import_ms"] > 0
        assert row["first_request_ms"] > 0
    targets = {t["target"]: t["met"] for t in report["targets"]}
    assert targets["import vzaps_async ≤ 1.3x import aiohttp"] is not None
    assert "## Start-up" in (tmp_path / "latest.md").read_text()


def test_summary_takes_medians_and_ratios_to_raw_aiohttp() -> None:
    """Medians over rounds are compared with raw aiohttp's, and targets are judged on them;
    each round's own ratio to raw aiohttp is reported beside them."""

    def run(client: str, round_number: int, cpu: float, rps: float) -> dict[str, object]:
        result = {
            "failed": False,
            "rps": rps,
            "cpu_us_per_request": cpu,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "errors": 0,
            "connections_opened": 64,
        }
        return {
            "scenario": "requests",
            "round": round_number,
            "client": client,
            "concurrency": 64,
            "result": result,
        }

    runs = [
        run("vzaps_async", 1, 110.0, 9000.0),
        run("raw_aiohttp", 1, 100.0, 10000.0),
        run("vzaps_official", 1, 1500.0, 500.0),
        run("vzaps_async", 2, 90.0, 11000.0),
        run("raw_aiohttp", 2, 80.0, 12000.0),
        run("vzaps_official", 2, 1700.0, 700.0),
        run("vzaps_async", 3, 500.0, 1.0),
        run("raw_aiohttp", 3, 90.0, 11000.0),
        run("vzaps_official", 3, 1600.0, 600.0),
    ]
    rows = summarise(runs, "requests", "concurrency")
    ours = next(row for row in rows if row["client"] == "vzaps_async")
    assert ours["cpu_us_per_request"] == 110.0
    assert ours["cpu_x_raw"] == 110.0 / 90.0
    assert ours["rps_x_raw"] == 9000.0 / 11000.0
    assert ours["cpu_x_raw_per_round"] == [110.0 / 100.0, 90.0 / 80.0, 500.0 / 90.0]
    targets = {t["target"]: t["met"] for t in check_targets(rows, [])}
    assert targets["CPU/request at c=64 ≤ 1.10x raw aiohttp"] is False  # 110/90 = 1.22
    assert targets["CPU/request at c=1 ≤ 1.10x raw aiohttp"] is None  # not measured
    assert targets["throughput at c=64 ≥ 10x official SDK"] is True
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.99) == 4.0
