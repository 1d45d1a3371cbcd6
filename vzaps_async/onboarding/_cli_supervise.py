"""``vzaps-async supervise``: keep a journal's instances connected, from the command line.

Reads the journal an ``onboard`` run wrote and supervises every instance in it that has connected
once (see `Supervisor`). ``--journal postgresql://... --job NAME`` supervises a shared job: the
run takes the job's one supervisor seat (a second supervisor is refused while it lives) and
holds the job's connected instances under its lease. It prints a summary when it stops: after
``--duration`` seconds, or on Ctrl-C / SIGTERM. Credentials come from ``VZAPS_CLIENT_TOKEN`` /
``VZAPS_CLIENT_SECRET`` (``--base-url`` or ``VZAPS_BASE_URL`` for another host, such as a
standalone simulator).

Exit status: 0 when every supervised instance ended CONNECTED, 1 otherwise, 2 for bad arguments,
missing credentials or a journal that cannot be used (missing, held by another run, damaged).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

import anyio

from vzaps_async._extras import MissingExtraError, require
from vzaps_async.errors import InputError, JournalError

from ._cli_job import is_dsn, open_job
from ._driver import OnboardingOptions
from ._fleet import Fleet
from ._metrics import Metrics
from ._postgres import PostgresJournal
from ._state import State
from ._store import Journal, SQLiteJournal
from ._supervisor import Supervisor, SupervisorOptions, SupervisorReport

__all__ = [
    "add_supervision_arguments",
    "build_parser",
    "check_metrics_port",
    "feed_metrics",
    "main",
    "print_summary",
    "serving_metrics",
    "supervise_until_stopped",
    "supervisor_options",
]


def add_supervision_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the supervisor's tuning options (shared by ``supervise`` and ``onboard --supervise``).

    Args:
        parser: The parser to extend.
    """
    group = parser.add_argument_group("supervision")
    group.add_argument(
        "--duration", type=float, help="stop after SECONDS and print the summary (default: never)"
    )
    group.add_argument(
        "--probe-interval", type=float, default=30.0, help="seconds between probes (30)"
    )
    group.add_argument(
        "--trouble-interval",
        type=float,
        default=5.0,
        help="seconds between probes of an instance in trouble (5)",
    )
    group.add_argument(
        "--grace", type=float, default=60.0, help="seconds a drop may last unnoticed (60)"
    )
    group.add_argument(
        "--stuck-after",
        type=float,
        default=120.0,
        help="seconds a queued message may not move before the session counts as stalled (120)",
    )
    group.add_argument(
        "--restart-wait",
        type=float,
        default=60.0,
        help="seconds after a restart before a still-stalled session is re-paired (60)",
    )
    group.add_argument(
        "--max-repairs",
        type=int,
        default=3,
        help="re-pairs of an instance since it was last connected, across runs (3)",
    )
    group.add_argument(
        "--max-restarts",
        type=int,
        default=3,
        help="restarts of a stalled instance since it was last connected, across runs (3)",
    )
    group.add_argument(
        "--repair-backoff",
        type=float,
        default=30.0,
        help="seconds after a re-pair that did not connect before the next, doubling (30)",
    )
    group.add_argument(
        "--restart-backoff",
        type=float,
        default=30.0,
        help="seconds after a restart before the next one, doubling (30)",
    )


def supervisor_options(args: argparse.Namespace) -> SupervisorOptions:
    """Build `SupervisorOptions` from parsed arguments (raises `InputError` naming the option).

    Args:
        args: Parsed arguments with the options of `add_supervision_arguments`.
    """
    if args.duration is not None and args.duration <= 0:
        raise InputError("--duration", f"must be greater than 0, got {args.duration!r}")
    names = {
        "probe_interval": "--probe-interval",
        "trouble_interval": "--trouble-interval",
        "grace_period": "--grace",
        "stuck_after": "--stuck-after",
        "restart_wait": "--restart-wait",
        "max_repairs": "--max-repairs",
        "max_restarts": "--max-restarts",
        "repair_backoff": "--repair-backoff",
        "restart_backoff": "--restart-backoff",
    }
    try:
        return SupervisorOptions(
            probe_interval=args.probe_interval,
            trouble_interval=args.trouble_interval,
            grace_period=args.grace,
            stuck_after=args.stuck_after,
            restart_wait=args.restart_wait,
            max_repairs=args.max_repairs,
            max_restarts=args.max_restarts,
            repair_backoff=args.repair_backoff,
            restart_backoff=args.restart_backoff,
            onboarding=OnboardingOptions(poll_interval=args.poll_interval, deadline=args.deadline),
        )
    except InputError as exc:
        raise InputError(names.get(exc.field, exc.field), exc.problem) from None


def build_parser() -> argparse.ArgumentParser:
    """The ``supervise`` command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="vzaps-async supervise",
        description="Keep a journal's instances connected: heal drops, logouts and dead sessions.",
    )
    parser.add_argument(
        "--journal",
        required=True,
        help="the onboarding's journal: a SQLite file, or postgresql://user@host:port/db "
        "with --job",
    )
    parser.add_argument("--job", help="the shared job to supervise (postgresql:// --journal)")
    parser.add_argument(
        "--lease",
        type=float,
        default=30.0,
        help="shared job: seconds this supervisor's seat outlives its last heartbeat (30)",
    )
    parser.add_argument("--base-url", help="API base URL (default $VZAPS_BASE_URL or the API)")
    parser.add_argument(
        "--presenter",
        choices=["terminal", "png", "web", "none"],
        default="terminal",
        help="how to show the QR codes of re-pairs (terminal)",
    )
    parser.add_argument(
        "--png-folder", type=Path, default=Path("qr-codes"), help="for --presenter png"
    )
    parser.add_argument("--web-port", type=int, default=0, help="for --presenter web (0 = any)")
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="seconds between pairing polls (1)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0 = any free port)",
    )
    parser.add_argument(
        "--deadline", type=float, default=900.0, help="seconds allowed per re-pair (900)"
    )
    add_supervision_arguments(parser)
    return parser


def print_summary(report: SupervisorReport, out: TextIO) -> None:
    """Print what a supervision run saw and did.

    Args:
        report: The run's report.
        out: Where to print.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False)
    table = Table(title="Supervision summary")
    table.add_column("state")
    table.add_column("instances", justify="right")
    for state in State:
        if report.counts.get(state):
            table.add_row(state.value, str(report.counts[state]))
    table.add_row("supervised", str(report.supervised))
    console.print(table)
    console.print(
        f"elapsed {report.elapsed:.1f}s; short drops left alone {report.short_drops}; "
        f"disconnects {report.disconnects}; stalls {report.stalls}; restarts {report.restarts}; "
        f"re-pairs {report.repairs}; probes unanswered {report.probe_errors}"
    )
    if report.lost:
        console.print(f"lease lost on {report.lost} instance(s): no longer watched by this run")
    for failure in report.failures[:50]:
        console.print(f"not connected: {failure.name} {failure.state.value}: {failure.reason}")
    for needy in report.attention[:50]:
        console.print(f"needs a person: {needy.name} {needy.state.value}: {needy.reason}")


async def supervise_until_stopped(
    supervisor: Supervisor, duration: float | None
) -> SupervisorReport:
    """Run ``supervisor`` until ``duration`` passes or SIGINT / SIGTERM arrives.

    Args:
        supervisor: The supervisor.
        duration: Seconds, or None for no limit.
    """
    async with anyio.create_task_group() as tg:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    supervisor.stop()
                    return

        tg.start_soon(stop_on_signal)
        report = await supervisor.run(duration)
        tg.cancel_scope.cancel()
    return report


def check_metrics_port(port: int | None) -> None:
    """Refuse a ``--metrics-port`` that cannot be served, before anything runs.

    Args:
        port: The option's value (None: not given).

    Raises:
        InputError: Out of range.
        MissingExtraError: prometheus-client is not installed.
    """
    if port is None:
        return
    if not 0 <= port <= 65535:
        raise InputError("--metrics-port", f"must be a port number 0-65535, got {port}")
    require("--metrics-port", "metrics", "prometheus_client")


@contextlib.asynccontextmanager
async def serving_metrics(port: int | None) -> AsyncIterator[Metrics | None]:
    """Serve Prometheus metrics on ``port`` while the block runs (None: no metrics).

    Args:
        port: The ``--metrics-port`` value.
    """
    if port is None:
        yield None
        return
    metrics = Metrics()
    async with metrics.serve(port) as url:
        print(f"metrics: {url}", file=sys.stderr, flush=True)
        yield metrics


async def feed_metrics(fleet: Fleet, metrics: Metrics) -> None:
    """Count every transition of a fleet's run.

    Args:
        fleet: The fleet (call before its `run` starts).
        metrics: Where to count.
    """
    async for item in fleet.events():
        await metrics.observe(item)


async def _run(args: argparse.Namespace, options: SupervisorOptions) -> int:
    from vzaps_async._client import Client

    from ._cli import _presenter  # here: the onboard CLI imports this module

    base_url = args.base_url or os.environ.get("VZAPS_BASE_URL") or None
    journal: Journal
    if is_dsn(args.journal):
        journal = open_job(args.journal, args.job, args.lease)
    else:
        journal = SQLiteJournal(args.journal)
    async with (
        serving_metrics(args.metrics_port) as metrics,
        journal,
        Client(
            os.environ["VZAPS_CLIENT_TOKEN"],
            os.environ["VZAPS_CLIENT_SECRET"],
            base_url=base_url,
            on_response=metrics.on_response if metrics is not None else None,
        ) as client,
        _presenter(args, simulate=False) as presenter,
    ):
        if isinstance(journal, PostgresJournal) and not await journal.exists():
            print(
                f"vzaps-async supervise: --job: the job {args.job!r} has no instances; "
                "onboard it first",
                file=sys.stderr,
            )
            return 2
        supervisor = Supervisor(
            client,
            journal,
            options=options,
            presenter=presenter,
            observer=metrics.observe if metrics is not None else None,
        )
        if metrics is not None:
            metrics.cooldown = client.transport.cooldown
            metrics.states = lambda: supervisor.counts
        report = await supervise_until_stopped(supervisor, args.duration)
    print_summary(report, sys.stdout)
    return 0 if report.all_connected else 1


def main(argv: list[str] | None = None) -> int:
    """Run ``vzaps-async supervise`` and return its exit status.

    Args:
        argv: Arguments after ``supervise`` (default: ``sys.argv[1:]``).
    """
    args = build_parser().parse_args(argv)
    try:
        # The summary table (the SQLite journal needs only the standard library).
        require("vzaps-async supervise", "cli", "rich")
        options = supervisor_options(args)
        check_metrics_port(args.metrics_port)
        if is_dsn(args.journal):
            require("vzaps-async supervise --journal postgresql://...", "postgres", "asyncpg")
            open_job(args.journal, args.job, args.lease)  # checks --job and --lease
        elif args.job:
            raise InputError("--job", "needs a postgresql://... --journal (a shared job)")
        elif not Path(args.journal).is_file():
            raise InputError("--journal", f"{args.journal} does not exist; onboard first")
        if not (os.environ.get("VZAPS_CLIENT_TOKEN") and os.environ.get("VZAPS_CLIENT_SECRET")):
            raise InputError("VZAPS_CLIENT_TOKEN", "set VZAPS_CLIENT_TOKEN and VZAPS_CLIENT_SECRET")
    except (InputError, MissingExtraError) as exc:
        print(f"vzaps-async supervise: {exc}", file=sys.stderr)
        return 2
    from ._cli import _stopped_by  # here: the onboard CLI imports this module

    try:
        return anyio.run(_run, args, options)
    except BaseException as exc:
        # The signal task's group wraps the supervisor's error: unwrap it.
        error = _stopped_by(exc)
        if not isinstance(error, JournalError):
            raise
        print(f"vzaps-async supervise: {error}", file=sys.stderr)
        return 2
