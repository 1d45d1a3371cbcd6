"""Shared jobs on the command line: ``onboard --journal postgresql://... --job NAME`` and
``vzaps-async fleet status``.

A ``--journal`` that starts with ``postgresql://`` (or ``postgres://``) names a PostgreSQL
database and needs ``--job``; anything else is a SQLite file path, as before.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import TextIO

import anyio

from vzaps_async._extras import MissingExtraError, require
from vzaps_async.errors import InputError, JournalError

from ._postgres import JobStatus, PostgresJournal
from ._state import State

__all__ = ["is_dsn", "open_job", "status_main"]

_SCHEMES = ("postgresql://", "postgres://")


def is_dsn(journal: str | None) -> bool:
    """Whether a ``--journal`` value names a PostgreSQL database rather than a SQLite file.

    Args:
        journal: The option's value.
    """
    return journal is not None and journal.startswith(_SCHEMES)


def open_job(journal: str, job: str | None, lease: float = 30.0) -> PostgresJournal:
    """The (unopened) journal of ``--journal DSN --job NAME``; refuses a missing ``--job``.

    Args:
        journal: The DSN.
        job: The ``--job`` value.
        lease: The ``--lease`` value, in seconds.
    """
    if not job:
        raise InputError("--job", "a PostgreSQL --journal needs --job NAME (the shared job)")
    return PostgresJournal(journal, job=job, lease_seconds=lease)


def _when(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_status(status: JobStatus, out: TextIO) -> None:
    print(f"job {status.job}: {status.total} instances", file=out)
    for state in State:
        if status.states.get(state):
            print(f"  {state.value:<10} {status.states[state]:>7}", file=out)
    if status.cooldown:
        print(f"429 cool-down: {status.cooldown:.1f}s left", file=out)
    print(f"workers ({len(status.workers)}):", file=out)
    for worker in status.workers:
        print(
            f"  {worker.id:<40} host={worker.host} pid={worker.pid} "
            f"heartbeat={_when(worker.heartbeat_at)}Z {'alive' if worker.alive else 'gone'} "
            f"connected={worker.instances}",
            file=out,
        )
    if status.failures:
        print(f"failures ({len(status.failures)}):", file=out)
        for name, reason in status.failures:
            print(f"  {name}: {reason}", file=out)


async def _status(args: argparse.Namespace) -> int:
    async with open_job(args.journal, args.job) as journal:
        if not await journal.exists():
            print(
                f"vzaps-async fleet status: no job {args.job!r} in that database", file=sys.stderr
            )
            return 1
        status = await journal.status()
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        _print_status(status, sys.stdout)
    return 0


def status_main(argv: list[str]) -> int:
    """Run ``vzaps-async fleet status`` and return its exit status.

    Args:
        argv: Arguments after ``fleet``.
    """
    parser = argparse.ArgumentParser(
        prog="vzaps-async fleet",
        description="Show a shared fleet job from any machine: states, workers, failures.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="show a job's progress")
    status.add_argument("--journal", required=True, help="postgresql://user@host:port/db")
    status.add_argument("--job", required=True, help="the job name")
    status.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if not is_dsn(args.journal):
        print(
            "vzaps-async fleet status: --journal must be a postgresql://... URL "
            "(a SQLite journal belongs to one run; see 'onboard --output')",
            file=sys.stderr,
        )
        return 2
    try:
        require("vzaps-async fleet status", "postgres", "asyncpg")
    except MissingExtraError as exc:
        print(f"vzaps-async fleet status: {exc}", file=sys.stderr)
        return 2
    try:
        return anyio.run(_status, args)
    except (InputError, JournalError) as exc:
        print(f"vzaps-async fleet status: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 1
