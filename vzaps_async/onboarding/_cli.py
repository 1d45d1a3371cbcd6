"""``vzaps-async onboard``: onboard a fleet of instances from the command line.

Without ``VZAPS_CLIENT_TOKEN`` / ``VZAPS_CLIENT_SECRET`` (or with ``--simulate``) it runs against
the in-process simulator, whose phones scan on their own, so the whole flow can be watched
offline. With a ``--journal`` file an interrupted run (Ctrl-C, a crash, a kill) continues where
it stopped when started again with the same arguments. ``--journal postgresql://... --job NAME``
starts or joins a job shared by workers on several machines (see ``_cli_job``).

Exit status: 0 when every instance ended CONNECTED, 1 otherwise, 2 for bad arguments or a journal
that cannot be used (held by another run, not a database, unwritable), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import anyio

from vzaps_async.errors import InputError, JournalError

from ._cli_job import is_dsn, open_job
from ._driver import OnboardingOptions
from ._fleet import Fleet, FleetOptions, FleetReport, InstanceSpec
from ._postgres import PostgresJournal
from ._presenters import (
    NullPresenter,
    PngFolderPresenter,
    Presenter,
    TerminalPresenter,
    WebPresenter,
)
from ._state import Snapshot, State
from ._store import Journal, MemoryJournal, SQLiteJournal

__all__ = ["build_parser", "load_specs", "main"]

DEFAULT_JOURNAL = "vzaps-fleet.db"


def build_parser() -> argparse.ArgumentParser:
    """The ``onboard`` command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="vzaps-async onboard",
        description="Take many WhatsApp instances from nothing to connected (QR or pair code).",
    )
    # Neither: join an existing shared job (--journal postgresql://... --job NAME).
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--count", type=int, help="onboard N instances named PREFIX-0001...")
    what.add_argument(
        "--input",
        type=Path,
        help="CSV (header: name[,phone][,method][,webhook]) or JSON list of such objects",
    )
    parser.add_argument("--prefix", default="fleet", help="name prefix for --count (fleet)")
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="use the in-process simulator (default when VZAPS_CLIENT_TOKEN is not set)",
    )
    parser.add_argument("--base-url", help="API base URL (default $VZAPS_BASE_URL or the API)")
    parser.add_argument(
        "--journal",
        help=f"SQLite journal file for resuming (default ./{DEFAULT_JOURNAL}; memory with "
        "--simulate), or postgresql://user@host:port/db for a job shared by several workers",
    )
    parser.add_argument("--job", help="the shared job's name (with a postgresql:// --journal)")
    parser.add_argument(
        "--lease",
        type=float,
        default=30.0,
        help="shared job: seconds a dead worker's instances wait before others take them (30)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=200, help="onboardings in flight at most (200)"
    )
    parser.add_argument(
        "--presenter",
        choices=["terminal", "png", "web", "none"],
        help="how to show QR codes (default: terminal, or none with --simulate)",
    )
    parser.add_argument(
        "--png-folder", type=Path, default=Path("qr-codes"), help="for --presenter png"
    )
    parser.add_argument("--web-port", type=int, default=0, help="for --presenter web (0 = any)")
    parser.add_argument(
        "--method", choices=["qr", "pair_code"], default="qr", help="default pairing method"
    )
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument(
        "--deadline", type=float, default=900.0, help="seconds allowed per instance (900)"
    )
    parser.add_argument("--output", type=Path, help="write results to FILE.json or FILE.csv")
    parser.add_argument(
        "--include-tokens", action="store_true", help="put instance tokens in --output"
    )
    parser.add_argument("--plain", action="store_true", help="log lines instead of a live display")
    return parser


def load_specs(path: Path, default_method: str = "qr") -> list[InstanceSpec]:
    """Read instance specs from a CSV or JSON file.

    Args:
        path: ``.csv`` with a header row (``name`` required; ``phone``, ``method``, ``webhook``
            optional) or ``.json`` holding a list of objects with the same keys.
        default_method: Method for rows that name none.
    """
    text = path.read_text(encoding="utf-8")
    rows: list[dict[str, Any]]
    if path.suffix.lower() == ".json":
        loaded = json.loads(text)
        if not isinstance(loaded, list):
            raise InputError("--input", "a JSON input must be a list of objects")
        rows = [dict(r) for r in loaded]
    else:
        rows = [dict(r) for r in csv.DictReader(io.StringIO(text))]
    specs = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        phone = str(row.get("phone") or "").strip() or None
        method = str(row.get("method") or "").strip() or ("pair_code" if phone else default_method)
        options = {"webhook": row["webhook"]} if row.get("webhook") else {}
        specs.append(InstanceSpec(name, phone=phone, method=method, create_options=options))  # type: ignore[arg-type]
    return specs


def _write_private(path: Path, text: str) -> None:
    # Results may carry tokens: owner-only, whatever the umask. Written beside the target and
    # renamed over it, so a crash never leaves a half-written file (nor truncates an old one).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _result(snap: Snapshot, include_tokens: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": snap.name,
        "state": snap.state.value,
        "instance_id": snap.instance_id,
        "phone": snap.phone,
        "failure": snap.failure,
        "seconds_to_connect": (
            round(snap.connected_at - snap.planned_at, 3) if snap.connected_at else None
        ),
    }
    if include_tokens:
        record["token"] = snap.token.reveal() if snap.token else None
    return record


def write_results(path: Path, snapshots: Sequence[Snapshot], include_tokens: bool) -> None:
    """Write per-instance results as JSON or CSV (by suffix), mode 0600.

    Args:
        path: Target file.
        snapshots: Final snapshots.
        include_tokens: Whether to include instance tokens.
    """
    records = [_result(s, include_tokens) for s in snapshots]
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        fields = list(records[0]) if records else ["name", "state"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
        _write_private(path, buffer.getvalue())
    else:
        _write_private(path, json.dumps(records, indent=2) + "\n")


def _summary(report: FleetReport, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False)
    table = Table(title="Onboarding summary")
    table.add_column("state")
    table.add_column("instances", justify="right")
    for state in State:
        if report.counts.get(state):
            table.add_row(state.value, str(report.counts[state]))
    table.add_row("total", str(report.total))
    console.print(table)
    p50, p95 = report.p50, report.p95
    timing = f"elapsed {report.elapsed:.1f}s"
    if p50 is not None and p95 is not None:
        timing += f"; time to connected p50 {p50:.1f}s, p95 {p95:.1f}s"
    if report.cooldowns:
        timing += f"; 429 cool-downs {report.cooldowns}"
    console.print(timing)
    if report.job is not None:
        job = ", ".join(f"{state.value} {n}" for state, n in sorted(report.job.items()))
        console.print(f"job ({sum(report.job.values())} instances): {job}")
    if report.failures:
        failures = Table(title="Not connected")
        failures.add_column("name")
        failures.add_column("state")
        failures.add_column("reason")
        for failure in report.failures[:50]:
            failures.add_row(failure.name, failure.state.value, failure.reason)
        console.print(failures)
        if len(report.failures) > 50:
            console.print(f"... and {len(report.failures) - 50} more (see --output)")


async def _progress(fleet: Fleet, live: bool, out: TextIO) -> None:
    events = fleet.events()
    if not live:
        async for item in events:
            if item.state is not item.previous or item.state in (State.CONNECTED, State.FAILED):
                line = f"{item.name} {item.previous.value} -> {item.state.value}"
                if item.state is State.FAILED:
                    line += f": {item.snapshot.failure}"
                print(line, file=out, flush=True)
        return
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    def render() -> Table:
        table = Table(title=f"Onboarding {len(fleet.specs)} instances")
        for state in State:
            table.add_column(state.value, justify="right")
        counts = fleet.counts
        table.add_row(*(str(counts.get(s, 0)) for s in State))
        return table

    with Live(render(), console=Console(file=out), refresh_per_second=8) as display:
        async for _ in events:
            display.update(render())
        display.update(render())


@contextlib.asynccontextmanager
async def _presenter(args: argparse.Namespace, simulate: bool) -> AsyncIterator[Presenter]:
    kind = args.presenter or ("none" if simulate else "terminal")
    if kind == "web":
        async with WebPresenter(port=args.web_port) as web:
            print(f"QR codes: {web.url}", file=sys.stderr, flush=True)
            yield web
    elif kind == "png":
        yield PngFolderPresenter(args.png_folder)
    elif kind == "terminal":
        yield TerminalPresenter()
    else:
        yield NullPresenter()


@contextlib.asynccontextmanager
async def _journal(args: argparse.Namespace, simulate: bool) -> AsyncIterator[Journal]:
    if is_dsn(args.journal):
        async with open_job(args.journal, args.job, args.lease) as job:
            yield job
        return
    path = args.journal if args.journal is not None else (None if simulate else DEFAULT_JOURNAL)
    if path is None:
        yield MemoryJournal()
        return
    async with SQLiteJournal(path) as journal:
        yield journal


@contextlib.asynccontextmanager
async def _client(args: argparse.Namespace, simulate: bool) -> AsyncIterator[Any]:
    from vzaps_async._client import Client

    if not simulate:
        base_url = args.base_url or os.environ.get("VZAPS_BASE_URL") or None
        async with Client(
            os.environ["VZAPS_CLIENT_TOKEN"],
            os.environ["VZAPS_CLIENT_SECRET"],
            base_url=base_url,
        ) as client:
            yield client
        return
    from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

    # Lively demo: phones scan the first QR a second after it appears, QR codes rotate quickly.
    config = SimulatorConfig(first_qr_seconds=5.0, qr_seconds=5.0)
    async with (
        Simulator(phones=PhonePolicy.scan_after(1.0), config=config) as sim,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
    ):
        yield client


async def _run(args: argparse.Namespace, specs: list[InstanceSpec], simulate: bool) -> int:
    out = sys.stdout
    live = out.isatty() and not args.plain and not os.environ.get("CI")
    options = FleetOptions(
        max_in_flight=args.concurrency,
        poll_concurrency=max(1, min(args.concurrency, 256)),
        onboarding=OnboardingOptions(
            method=args.method, poll_interval=args.poll_interval, deadline=args.deadline
        ),
    )
    # The journal first: a journal held by another run, or unusable, stops before any request.
    async with (
        _journal(args, simulate) as journal,
        _client(args, simulate) as client,
        _presenter(args, simulate) as presenter,
    ):
        if simulate and args.journal is not None and await journal.load_all():
            print(
                "note: this journal's instances live in the simulator of an earlier run, which "
                "is gone; to resume against a simulator, run one standalone "
                "(vzaps-async simulator) and pass --base-url",
                file=sys.stderr,
            )
        if not specs and isinstance(journal, PostgresJournal) and not await journal.exists():
            print(
                f"vzaps-async onboard: the job {args.job!r} has no instances; start it with "
                "--count or --input",
                file=sys.stderr,
            )
            return 2
        fleet = Fleet(client, journal, specs, options=options, presenter=presenter)
        report: FleetReport | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_progress, fleet, live, out)
            report = await fleet.run()
        if args.output is not None:
            names = {s.name for s in specs}
            finals = [s for s in await journal.load_all() if s.name in names]
            finals.sort(key=lambda s: s.name)
            write_results(args.output, finals, args.include_tokens)
    assert report is not None
    _summary(report, out)
    return 0 if report.all_connected else 1


def _journal_error(exc: BaseException) -> JournalError | InputError | None:
    """The journal's error when it alone stopped the run (the progress task wraps it in a group),
    or the input a shared job refused (a spec that clashes with the job's)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, JournalError | InputError) else None


def main(argv: list[str] | None = None) -> int:
    """Run ``vzaps-async onboard`` and return its exit status.

    Args:
        argv: Arguments after ``onboard`` (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.job and not is_dsn(args.journal):
            raise InputError("--job", "needs a postgresql://... --journal")
        if args.count is None and args.input is None and not is_dsn(args.journal):
            raise InputError(
                "--count/--input", "one is required (only a shared job can be joined without)"
            )
        if is_dsn(args.journal):
            open_job(args.journal, args.job, args.lease)  # checks the options before any run
        if args.count is not None:
            if args.count < 1:
                raise InputError("--count", "must be at least 1")
            specs = [
                InstanceSpec(f"{args.prefix}-{i:04d}", method="qr")
                for i in range(1, args.count + 1)
            ]
        elif args.input is not None:
            specs = load_specs(args.input, args.method)
        else:
            specs = []
        if args.concurrency < 1:
            raise InputError("--concurrency", "must be at least 1")
    except (InputError, OSError, ValueError) as exc:
        print(f"vzaps-async onboard: {exc}", file=sys.stderr)
        return 2
    have_credentials = bool(
        os.environ.get("VZAPS_CLIENT_TOKEN") and os.environ.get("VZAPS_CLIENT_SECRET")
    )
    if args.base_url and not have_credentials and not args.simulate:
        # Pointing at a host without credentials is a mistake, not a request for the simulator.
        print(
            "vzaps-async onboard: --base-url needs VZAPS_CLIENT_TOKEN and VZAPS_CLIENT_SECRET "
            "(a standalone simulator prints them on start)",
            file=sys.stderr,
        )
        return 2
    simulate = args.simulate or not have_credentials
    if simulate and not args.simulate:
        print(
            "VZAPS_CLIENT_TOKEN/VZAPS_CLIENT_SECRET not set: using the local simulator",
            file=sys.stderr,
        )
    try:
        return anyio.run(_run, args, specs, simulate)
    except (InputError, JournalError, BaseExceptionGroup) as exc:
        journal_error = _journal_error(exc)
        if journal_error is None:
            raise
        print(f"vzaps-async onboard: {journal_error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        where = "the journal" if (args.journal or not simulate) else "nothing (memory journal)"
        print(f"\ninterrupted; progress is kept in {where}; run again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
