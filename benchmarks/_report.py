"""Summaries of the runs: medians per client, ratios to raw aiohttp, Markdown, chart, machine."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CLIENT_LABELS",
    "REFERENCE",
    "check_targets",
    "machine_info",
    "render_markdown",
    "summarise",
    "write_chart",
]

#: The baseline every ratio is taken against: the practical limit.
REFERENCE = "raw_aiohttp"

CLIENT_LABELS = {
    "vzaps_async": "(a) vzaps_async",
    "vzaps_async_sqlite": "(a') vzaps_async, SQLite journal",
    "raw_aiohttp": "(b) raw aiohttp",
    "vzaps_official": "(c) vzaps (official)",
}

_PACKAGES = ("vzaps-async", "aiohttp", "vzaps", "httpx", "httpcore", "pydantic", "attrs", "cattrs")

# Figures summarised by their median over the rounds, per scenario.
_REQUEST_FIGURES = ("rps", "cpu_us_per_request", "p50_ms", "p99_ms", "connections_opened")
_FLEET_FIGURES = (
    "instances_per_s",
    "cpu_ms_per_instance",
    "wall_s",
    "peak_rss_kib",
    "rss_growth_kib",
    "connections_opened",
)
_STARTUP_FIGURES = ("import_ms", "first_request_ms")

# What the fleets' baseline does, in the report beside their tables.
_RAW_FLEET_NOTE = (
    "(b) raw aiohttp is a hand-written script doing per call what the request path's raw "
    "client does: one pooled session with User-Agent and Accept, the auth headers and, on the "
    "calls with a body, Content-Type, the body JSON-encoded per call, each response's status "
    "checked, its body read and JSON-decoded, and on the enveloped answers (subscribe, QR) the "
    "`success` envelope checked before `data` is taken; as many workers as instances in flight "
    "onboard one instance after another."
)
_CONNECTED_NOTE = (
    "'all connected' needs the client's own count and the simulator's pairing count to equal "
    "the fleet size in every round."
)


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, OS, Python and the versions of the packages being compared."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "git": _git_state(),
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "packages": versions,
    }


def _git_state() -> str | None:
    """The commit under test, with ``+dirty`` when the working tree has changes."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _median(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def summarise(runs: Sequence[dict[str, Any]], scenario: str, key: str) -> list[dict[str, Any]]:
    """Median figures per (level, client) over the rounds, with ratios to raw aiohttp.

    Args:
        runs: Every run record (``scenario``, ``client``, ``round``, the level key, ``result``).
        scenario: ``requests``, ``fleet``, ``fullload`` or ``startup``.
        key: The level: ``concurrency`` (requests), ``instances`` (fleet, fullload), ``what``
            (startup).
    """
    fleet = scenario in ("fleet", "fullload")
    figures = {
        "requests": _REQUEST_FIGURES,
        "fleet": _FLEET_FIGURES,
        "fullload": _FLEET_FIGURES,
        "startup": _STARTUP_FIGURES,
    }[scenario]
    chosen = [run for run in runs if run["scenario"] == scenario]
    levels = sorted({run[key] for run in chosen})
    clients = [c for c in CLIENT_LABELS if any(run["client"] == c for run in chosen)]
    cpu_figure = {
        "requests": "cpu_us_per_request",
        "fleet": "cpu_ms_per_instance",
        "fullload": "cpu_ms_per_instance",
        "startup": "import_ms",
    }[scenario]
    rows: list[dict[str, Any]] = []
    for level in levels:
        medians: dict[str, dict[str, Any]] = {}
        by_round: dict[str, dict[int, dict[str, Any]]] = {}
        for client in clients:
            mine = [run for run in chosen if run[key] == level and run["client"] == client]
            by_round[client] = {
                run["round"]: run["result"] for run in mine if not run["result"].get("failed")
            }
            ok = list(by_round[client].values())
            failures = [run["result"].get("error") for run in mine if run["result"].get("failed")]
            row: dict[str, Any] = {
                "scenario": scenario,
                key: level,
                "client": client,
                "rounds": len(mine),
                "rounds_ok": len(ok),
                "failed": not ok,
                "error": failures[0] if failures else None,
                "errors": sum(int(result.get("errors", 0)) for result in ok),
            }
            for figure in figures:
                row[figure] = _median(result.get(figure) for result in ok)
            if fleet:
                row["all_connected"] = bool(ok) and all(
                    result.get("connected") == result.get("instances")
                    and result.get("sim_check", True)
                    for result in ok
                )
            medians[client] = row
            rows.append(row)
        reference = medians.get(REFERENCE)
        for client in clients:
            row = medians[client]
            row["cpu_x_raw"] = _ratio(row[cpu_figure], _get(reference, cpu_figure))
            row["cpu_x_raw_per_round"] = _same_round_ratios(
                by_round[client], by_round.get(REFERENCE, {}), cpu_figure
            )
            if scenario == "requests":
                row["rps_x_raw"] = _ratio(row["rps"], _get(reference, "rps"))
            elif fleet:
                row["wall_x_raw"] = _ratio(row["wall_s"], _get(reference, "wall_s"))
                row["wall_x_raw_per_round"] = _same_round_ratios(
                    by_round[client], by_round.get(REFERENCE, {}), "wall_s"
                )
            else:
                row["first_request_x_raw"] = _ratio(
                    row["first_request_ms"], _get(reference, "first_request_ms")
                )
    return rows


def _same_round_ratios(
    results: dict[int, dict[str, Any]], reference: dict[int, dict[str, Any]], figure: str
) -> list[float]:
    """``figure`` over raw aiohttp's in the same round, for each round both completed.

    Clients alternate within a round, so a round's ratio compares runs minutes apart; the ratio
    of medians can pair a client's quick round with the reference's slow one when the machine
    drifts between rounds.

    Args:
        results: The client's results by round number.
        reference: Raw aiohttp's results by round number.
        figure: The figure to compare.
    """
    ratios = []
    for round_number in sorted(results):
        value = results[round_number].get(figure)
        base = reference.get(round_number, {}).get(figure)
        if value is not None and base:
            ratios.append(value / base)
    return ratios


def _get(row: dict[str, Any] | None, figure: str) -> float | None:
    return None if row is None else row.get(figure)


def _fmt(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}{suffix}"
    return str(value)


def _table(
    header: Sequence[str],
    align: str,
    rows: Sequence[dict[str, Any]],
    lead: Callable[[dict[str, Any]], list[str]],
    cells: Callable[[dict[str, Any]], list[str]],
) -> list[str]:
    """A Markdown table: the ``lead`` cells and the figures of each run, or the error of a run
    that failed in place of its figures."""
    lines = ["".join(header), align]
    columns = align.count("|") - 1
    for row in rows:
        first = lead(row)
        if row["failed"]:
            padding = "|" * (columns - len(first))
            lines.append("| " + " | ".join(first) + f" | FAILED: {row['error']} {padding}")
        else:
            lines.append("| " + " | ".join(first + cells(row)) + " |")
    return lines


def _request_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    return _table(
        (
            "| concurrency | client | req/s | xraw | CPU µs/req | xraw | p50 ms | p99 ms | errors ",
            "| TCP conns |",
        ),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        rows,
        lambda row: [str(row["concurrency"]), CLIENT_LABELS[row["client"]]],
        lambda row: [
            _fmt(row["rps"]),
            _fmt(row["rps_x_raw"], 2),
            _fmt(row["cpu_us_per_request"]),
            _fmt(row["cpu_x_raw"], 2),
            _fmt(row["p50_ms"], 2),
            _fmt(row["p99_ms"], 2),
            str(row["errors"]),
            _fmt(row["connections_opened"]),
        ],
    )


def _mib(kib: float | None) -> float | None:
    return None if kib is None else kib / 1024


def _fleet_table(rows: Sequence[dict[str, Any]], *, full: bool = True) -> list[str]:
    """The fleet table; ``full=False`` leaves out RSS growth and TCP connections (full load)."""
    tail = "| RSS growth MiB | all connected | TCP conns |" if full else "| all connected |"
    return _table(
        (
            "| instances | client | inst/s | wall s | xraw | CPU ms/inst | xraw | peak RSS MiB ",
            tail,
        ),
        "|---:|---|" + "---:|" * (7 if full else 6) + ":---:|" + ("---:|" if full else ""),
        rows,
        lambda row: [str(row["instances"]), CLIENT_LABELS[row["client"]]],
        lambda row: [
            _fmt(row["instances_per_s"], 1),
            _fmt(row["wall_s"], 1),
            _fmt(row["wall_x_raw"], 2),
            _fmt(row["cpu_ms_per_instance"], 2),
            _fmt(row["cpu_x_raw"], 2),
            _fmt(_mib(row["peak_rss_kib"]), 1),
            *([_fmt(_mib(row["rss_growth_kib"]), 1)] if full else []),
            _fmt(row["all_connected"]),
            *([_fmt(row["connections_opened"])] if full else []),
        ],
    )


def _startup_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    return _table(
        ("| client | import ms | xraw | process start to first request ms | xraw |",),
        "|---|---:|---:|---:|---:|",
        rows,
        lambda row: [CLIENT_LABELS[row["client"]]],
        lambda row: [
            _fmt(row["import_ms"]),
            _fmt(row["cpu_x_raw"], 2),
            _fmt(row["first_request_ms"]),
            _fmt(row["first_request_x_raw"], 2),
        ],
    )


def _find(
    rows: Sequence[dict[str, Any]], key: str, level: int, client: str
) -> dict[str, Any] | None:
    for row in rows:
        if row[key] == level and row["client"] == client and not row["failed"]:
            return row
    return None


def check_targets(
    request_rows: Sequence[dict[str, Any]],
    fleet_rows: Sequence[dict[str, Any]],
    startup_rows: Sequence[dict[str, Any]] = (),
    full_load_rows: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The issue's targets, evaluated on this run (``met`` is None when not measured).

    Args:
        request_rows: Scenario 1 summary.
        fleet_rows: Scenario 2 summary.
        startup_rows: Scenario 3 summary.
        full_load_rows: Scenario 2b summary (the fleet at full load).
    """
    targets: list[dict[str, Any]] = []
    for level in (1, 64, 256):
        mine = _find(request_rows, "concurrency", level, "vzaps_async")
        cpu = _get(mine, "cpu_x_raw")
        targets.append(
            {
                "target": f"CPU/request at c={level} ≤ 1.10x raw aiohttp",
                "value": cpu,
                "met": None if cpu is None else cpu <= 1.10,
                "per_round": None if mine is None else mine["cpu_x_raw_per_round"],
            }
        )
    ours = _find(request_rows, "concurrency", 64, "vzaps_async")
    official = _find(request_rows, "concurrency", 64, "vzaps_official")
    speedup = _ratio(_get(ours, "rps"), _get(official, "rps"))
    targets.append(
        {
            "target": "throughput at c=64 ≥ 10x official SDK",
            "value": speedup,
            "met": None if speedup is None else speedup >= 10,
        }
    )
    conns = _get(ours, "connections_opened")
    targets.append(
        {
            "target": "TCP connections at c=64 ≤ 64",
            "value": conns,
            "met": None if conns is None else conns <= 64,
        }
    )
    sizes = sorted({row["instances"] for row in fleet_rows})
    fleet = _find(fleet_rows, "instances", sizes[-1], "vzaps_async") if sizes else None
    label = f"fleet of {sizes[-1]:,}" if sizes else "fleet"
    for client, limit, text in (
        ("vzaps_async", 1.15, "client CPU/instance ≤ 1.15x raw (memory journal)"),
        ("vzaps_async_sqlite", 1.3, "client CPU/instance ≤ 1.3x raw (SQLite)"),
    ):
        row = _find(fleet_rows, "instances", sizes[-1], client) if sizes else None
        value = _get(row, "cpu_x_raw")
        targets.append(
            {
                "target": f"{label}: {text}",
                "value": value,
                "met": None if value is None else value <= limit,
                "per_round": _get(row, "cpu_x_raw_per_round"),
            }
        )
    full_sizes = sorted({row["instances"] for row in full_load_rows})
    full_label = f"full load, {full_sizes[-1]:,}" if full_sizes else "full load"
    for client, text in (
        ("vzaps_async_sqlite", "wall ≤ 1.10x raw (SQLite)"),
        ("vzaps_async", "wall ≤ 1.10x raw (memory journal; information, not a target)"),
    ):
        row = _find(full_load_rows, "instances", full_sizes[-1], client) if full_sizes else None
        value = _get(row, "wall_x_raw")
        targets.append(
            {
                "target": f"{full_label}: {text}",
                "value": value,
                "met": None if value is None else value <= 1.10,
                "per_round": _get(row, "wall_x_raw_per_round"),
            }
        )
    start = _find(startup_rows, "what", "start-up", "vzaps_async")
    for figure, text in (
        ("cpu_x_raw", "import vzaps_async ≤ 1.3x import aiohttp"),
        ("first_request_x_raw", "process start to first request ≤ 1.3x raw aiohttp"),
    ):
        value = _get(start, figure)
        targets.append(
            {"target": text, "value": value, "met": None if value is None else value <= 1.3}
        )
    connected = _get(fleet, "all_connected")
    targets.append(
        {"target": f"{label}: every instance connected", "value": connected, "met": connected}
    )
    full = (
        _find(full_load_rows, "instances", full_sizes[-1], "vzaps_async_sqlite")
        if full_sizes
        else None
    )
    connected = _get(full, "all_connected")
    targets.append(
        {
            "target": f"{full_label}: every instance connected (SQLite)",
            "value": connected,
            "met": connected,
        }
    )
    return targets


def _pinning(cpus: Sequence[int] | None) -> str:
    if not cpus:
        return ", neither pinned to a CPU"
    return f", pinned to CPU {cpus[0]}, and each request-path and fleet client to CPU {cpus[1]}"


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: machine, settings, both tables, targets.

    Args:
        report: The full report (``machine``, ``settings``, ``summary``, ``targets``).
    """
    machine = report["machine"]
    settings = report["settings"]
    packages = ", ".join(
        f"{name} {version or '—'}" for name, version in machine["packages"].items()
    )
    lines = [
        f"# Benchmarks ({report['finished_at']})",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model'] or 'unknown CPU'}), "
        f"{machine['platform']}, Python {machine['python']}; code at {machine.get('git') or '?'}.",
        f"Packages: {packages}.",
        "",
        f"Command: `{settings['command']}`; {settings['rounds']} round(s), clients alternating "
        "(a b c a b c …); every figure is the median over the rounds, ratios are to (b) raw "
        "aiohttp from the same run. Each client ran in its own process; the simulator ran in "
        "another process (faults off) on 127.0.0.1" + _pinning(settings.get("cpus")) + ".",
        "",
    ]
    if report["summary"].get("requests"):
        lines += [
            f"## Request path: {settings['requests']:,} `send_text` calls per run",
            "",
            *_request_table(report["summary"]["requests"]),
            "",
            *(
                [
                    f"(c) the official SDK ran {official:,} calls per run: at its rate, that is "
                    "several seconds a run already.",
                    "",
                ]
                if (official := settings.get("official_requests", settings["requests"]))
                < settings["requests"]
                else []
            ),
            "(b) raw aiohttp is what careful hand-written code does for the call: one pooled "
            "session, the SDK's headers (User-Agent, Accept, X-Instance-Token, X-Client-Token, "
            "Content-Type), the body JSON-encoded per call, each response's status checked, its "
            "body read, JSON-decoded and its `success` envelope checked. "
            "CPU is `getrusage(RUSAGE_SELF)` user+sys of the client process around the timed loop "
            "(after a warm-up). TCP conns counts every `loop.create_connection` of the client "
            "process (warm-up included). Pools are sized to the concurrency for every client "
            "(httpx keep-alive included).",
            "",
        ]
    if report["summary"].get("startup"):
        lines += [
            "## Start-up",
            "",
            *_startup_table(report["summary"]["startup"]),
            "",
            "Each figure from a fresh interpreter per round. *import* is `time.perf_counter` "
            "around `import vzaps_async` or `import aiohttp` alone (interpreter start excluded). "
            "*First request* is the wall time from launching a process to its exit, the process "
            "building the client, sending one `send_text` to the simulator and decoding the "
            "message id (interpreter start, imports, session, connection and the call).",
            "",
        ]
    if report["summary"].get("fleet"):
        lines += [
            f"## Fleet onboarding: {settings['fleet_concurrency']} instances in flight, "
            f"{settings['fleet_connections']} connections, simulator latency "
            f"{settings['fleet_latency_ms']:g} ms, phones scan the 2nd QR",
            "",
            "Fleet phase limits (create/subscribe/poll calls in flight): "
            + (
                "the Fleet's defaults"
                if settings.get("fleet_phase_concurrency") is None
                else str(settings["fleet_phase_concurrency"])
            )
            + f"; QR polls every {settings['poll_interval']:g} s at most (all clients).",
            "",
            *_fleet_table(report["summary"]["fleet"]),
            "",
            _RAW_FLEET_NOTE,
            "",
            "RSS growth is peak RSS minus the RSS before the fleet started (client modules "
            "already imported); compare it across fleet sizes to see whether memory stays flat. "
            + _CONNECTED_NOTE,
            "",
        ]
    if report["summary"].get("fullload"):
        lines += [
            f"## Fleet at full load: {settings['full_load_size']:,} instances, "
            f"{settings['fleet_concurrency']} in flight, {settings['fleet_connections']} "
            "connections, simulator latency 0 ms, phones scan the 1st QR",
            "",
            *_fleet_table(report["summary"]["fullload"], full=False),
            "",
            "The simulator answers without delay and each phone scans the first QR "
            f"{settings['scan_after']:g} s after it appears: an instance waits for one QR poll "
            f"({settings['poll_interval']:g} s at most) and otherwise only for the client's and "
            "the simulator's work, both on this machine. (c) the official SDK is left out: it "
            "spends over ten times raw aiohttp's CPU per fleet instance, which would make each "
            "of its runs minutes long.",
            "",
            *(
                ["(b) raw aiohttp is the fleet scenario's script.", ""]
                if report["summary"].get("fleet")
                else [_RAW_FLEET_NOTE, "", _CONNECTED_NOTE, ""]
            ),
        ]
    if report.get("targets"):
        lines += [
            "## Targets",
            "",
            "| target | this run | met | same-round ratios |",
            "|---|---:|:---:|---|",
        ]
        for target in report["targets"]:
            value = target["value"]
            shown = _fmt(value) if isinstance(value, bool) else _fmt(value, 2)
            met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
            rounds = ", ".join(f"{ratio:.2f}" for ratio in target.get("per_round") or ())
            lines.append(f"| {target['target']} | {shown} | {met} | {rounds} |")
        lines += [
            "",
            "'this run' is the ratio of the medians over the rounds (what the targets are judged "
            "on); 'same-round ratios' divide each round's figure by raw aiohttp's in that round, "
            "which shows how far the machine drifted between rounds.",
            "",
        ]
    return "\n".join(lines)


def write_chart(rows: Sequence[dict[str, Any]], path: Path) -> bool:
    """Plot median requests/s (and CPU µs/request) against concurrency, one line per client.

    Returns False when matplotlib is not installed.

    Args:
        rows: Scenario 1 summary.
        path: Where to write the PNG.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for client, label in CLIENT_LABELS.items():
        mine = [r for r in rows if r["client"] == client and not r["failed"]]
        if not mine:
            continue
        xs = [r["concurrency"] for r in mine]
        left.plot(xs, [r["rps"] for r in mine], marker="o", label=label)
        right.plot(xs, [r["cpu_us_per_request"] for r in mine], marker="o", label=label)
    for axis, title, unit in (
        (left, "Throughput", "requests/s"),
        (right, "Client CPU per request", "µs (user+sys)"),
    ):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("concurrency")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.suptitle("send_text against the local simulator (medians over rounds)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
