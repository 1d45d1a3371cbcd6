"""``vzaps-async onboard``: onboard a fleet of instances from the command line.

Without ``VZAPS_CLIENT_TOKEN`` / ``VZAPS_CLIENT_SECRET`` (or with ``--simulate``) it runs against
the in-process simulator, whose phones scan on their own, so the whole flow can be watched
offline. With a ``--journal`` file an interrupted run (Ctrl-C, a crash, a kill) continues where
it stopped when started again with the same arguments. ``--journal postgresql://... --job NAME``
starts or joins a job shared by workers on several machines (see ``_cli_job``).

Every argument, the input file, the output path, the QR folder, the web port and the journal
are checked before the first request; a problem is reported on one line naming the file, row or
option and the fix.

Exit status: 0 when every instance ended CONNECTED, 1 when some did not, 2 for bad input or
usage, a missing extra or a journal that cannot be used (held by another run, not a database,
unwritable), with nothing sent, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

import anyio

from vzaps_async._extras import MissingExtraError, require
from vzaps_async._secret import url_repr
from vzaps_async.errors import (
    AuthenticationError,
    InputError,
    JournalError,
    PermissionDeniedError,
    VZapsError,
)

from ._cli_job import is_dsn, open_job
from ._cli_supervise import (
    add_supervision_arguments,
    check_metrics_port,
    feed_metrics,
    print_summary,
    serving_metrics,
    supervise_until_stopped,
    supervisor_options,
)
from ._driver import OnboardingOptions
from ._fleet import Fleet, FleetOptions, FleetReport, InstanceSpec
from ._metrics import Metrics
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
from ._supervisor import Supervisor

__all__ = ["build_parser", "load_specs", "main", "state_table", "write_results"]

DEFAULT_JOURNAL = "vzaps-fleet.db"

_EXIT_CODES = """exit status:
  0    every instance ended connected
  1    some instance did not (see the summary and --output), or the run stopped on an error
       after it started (one line says which; the same command resumes)
  2    bad input or usage, a missing extra, an unusable journal or refused credentials;
       nothing was created
  130  interrupted (Ctrl-C); with a --journal, the same command resumes
"""

#: The columns (CSV) or keys (JSON) an input row may have.
_INPUT_FIELDS = ("name", "phone", "method", "webhook")
_INPUT_FORM = "CSV with a header row name[,phone][,method][,webhook], or a JSON list of objects"


def build_parser() -> argparse.ArgumentParser:
    """The ``onboard`` command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="vzaps-async onboard",
        description="Take many WhatsApp instances from nothing to connected (QR or pair code).",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0 = any free port)",
    )
    parser.add_argument(
        "--supervise",
        action="store_true",
        help="then keep the journal's instances connected (see 'vzaps-async supervise')",
    )
    add_supervision_arguments(parser)
    return parser


def load_specs(path: Path, default_method: str = "qr") -> list[InstanceSpec]:
    """Read instance specs from a CSV or JSON file, checking every row.

    A file whose text starts with ``[`` is JSON whatever its suffix; anything else is CSV (comma,
    semicolon or tab separated, header names in any case, a UTF-8 byte-order mark allowed).

    Args:
        path: CSV with a header row (``name`` required; ``phone``, ``method``, ``webhook``
            optional) or JSON holding a list of objects with the same keys.
        default_method: Method for rows that name none and have no phone.

    Raises:
        InputError: Naming the file and row (or the header) at fault and the fix.
    """
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(where, "is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise InputError("--input", f"cannot read {where}: {exc.strerror or exc}") from None
    if not text.strip():
        raise InputError(where, f"is empty; expected {_INPUT_FORM}")
    is_json = path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{"))
    rows = _json_rows(where, text) if is_json else _csv_rows(where, text)
    if not rows:
        raise InputError(where, "lists no instances; add one row (or object) per instance")
    specs: list[InstanceSpec] = []
    seen: dict[str, str] = {}
    for label, row in rows:
        name = row.get("name")
        if isinstance(name, str):
            name = name.strip()
        if name is None or name == "":
            raise InputError(f"{where} {label}", "has no name; each instance needs one")
        phone = _cell(row.get("phone"))
        method = _cell(row.get("method")) or ("pair_code" if phone else default_method)
        webhook = _cell(row.get("webhook"))
        try:
            spec = InstanceSpec(
                name,
                phone=phone,
                method=method,  # type: ignore[arg-type]  # InstanceSpec checks it
                create_options={"webhook": webhook} if webhook else {},
            )
        except InputError as exc:
            raise InputError(f"{where} {label}, {exc.field}", exc.problem) from None
        if spec.name in seen:
            raise InputError(
                f"{where} {label}",
                f"name {spec.name!r} is already used on {seen[spec.name]}; names must be unique",
            )
        seen[spec.name] = label
        specs.append(spec)
    return specs


def _cell(value: object) -> object:
    # Blank CSV cells and JSON nulls both mean "not given".
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value.strip() if isinstance(value, str) else value


def _json_rows(where: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            where, f"is not valid JSON ({exc.msg}, line {exc.lineno}); expected {_INPUT_FORM}"
        ) from None
    except RecursionError:
        raise InputError(where, "is nested too deeply to be an instance list") from None
    if not isinstance(loaded, list):
        raise InputError(where, f"must hold a JSON list of objects, not a {type(loaded).__name__}")
    rows = []
    for i, item in enumerate(loaded):
        label = f"item {i}"
        if not isinstance(item, dict):
            raise InputError(f"{where} {label}", 'must be an object such as {"name": "shop-01"}')
        _check_fields(f"{where} {label}", list(item))
        rows.append((label, item))
    return rows


def _csv_rows(where: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    first = text.lstrip("\r\n").splitlines()[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:  # one column: nothing to tell the delimiter by
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header: list[str] | None = None
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            _check_fields(f"{where} header", header)
            continue
        label = f"row {reader.line_num}"
        if len(cells) > len(header):
            raise InputError(
                f"{where} {label}",
                f"has {len(cells)} fields but the header has {len(header)} "
                f"({','.join(header)}); quote values that contain the delimiter",
            )
        rows.append((label, dict(zip(header, cells, strict=False))))
    return rows


def _check_fields(where: str, fields: list[str]) -> None:
    unknown = [f for f in fields if f not in _INPUT_FIELDS]
    if unknown:
        raise InputError(
            where,
            f"unknown column {unknown[0]!r}; the columns are {', '.join(_INPUT_FIELDS)} "
            "(only name is required)",
        )
    if len(set(fields)) != len(fields):
        raise InputError(where, "names a column twice")
    if where.endswith("header") and "name" not in fields:
        raise InputError(where, f"has no 'name' column; expected {_INPUT_FORM}")


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


#: The states an onboarding passes through (DISCONNECTED and STALLED come after, supervised).
ONBOARDING_STATES: Final = frozenset(State) - {State.DISCONNECTED, State.STALLED}


def state_table(counts: Mapping[State, int], total: int, width: int) -> Any:
    """The live display's table: one column per state, every header whole at ``width``.

    Args:
        counts: Instances per state.
        total: Instances in the fleet.
        width: Terminal columns.
    """
    from rich.table import Table

    # Eight padded columns need 88 columns; narrower terminals (80) drop the padding rather
    # than cut headers to "SUBSCR…". The supervisor's states get a column only when counted
    # (a journal that a supervisor wrote).
    shown = [s for s in State if s in ONBOARDING_STATES or counts.get(s)]
    table = Table(title=f"Onboarding {total} instances", padding=(0, 1) if width >= 88 else 0)
    for state in shown:
        table.add_column(state.value, justify="right", no_wrap=True)
    table.add_row(*(str(counts.get(s, 0)) for s in shown))
    return table


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

    console = Console(file=out)

    def render() -> Any:
        return state_table(fleet.counts, len(fleet.specs), console.width)

    with Live(render(), console=console, refresh_per_second=8) as display:
        async for _ in events:
            display.update(render())
        display.update(render())


@contextlib.asynccontextmanager
async def _presenter(args: argparse.Namespace, simulate: bool) -> AsyncIterator[Presenter]:
    kind = args.presenter or ("none" if simulate else "terminal")
    if kind == "web":
        web = WebPresenter(port=args.web_port)
        try:
            await web.start()
        except OSError as exc:
            raise InputError(
                "--web-port",
                f"cannot listen on 127.0.0.1:{args.web_port} ({exc.strerror or exc}); "
                "pick another port, or 0 for any free one",
            ) from None
        try:
            print(f"QR codes: {web.url}", file=sys.stderr, flush=True)
            yield web
        finally:
            await web.aclose()
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
    path = _journal_path(args, simulate)
    if path is None:
        yield MemoryJournal()
        return
    async with SQLiteJournal(path) as journal:
        yield journal


def _journal_path(args: argparse.Namespace, simulate: bool) -> Path | None:
    if args.journal is not None:
        return Path(args.journal)
    return None if simulate else Path(DEFAULT_JOURNAL)


@contextlib.asynccontextmanager
async def _client(
    args: argparse.Namespace, simulate: bool, metrics: Metrics | None = None
) -> AsyncIterator[Any]:
    from vzaps_async._client import Client

    if not simulate:
        base_url = args.base_url or os.environ.get("VZAPS_BASE_URL") or None
        async with Client(
            os.environ["VZAPS_CLIENT_TOKEN"],
            os.environ["VZAPS_CLIENT_SECRET"],
            base_url=base_url,
            on_response=metrics.on_response if metrics is not None else None,
        ) as client:
            yield client
        return
    from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

    # Lively demo: phones scan the first QR a second after it appears, QR codes rotate quickly.
    config = SimulatorConfig(first_qr_seconds=5.0, qr_seconds=5.0)
    phones = PhonePolicy.scan_after(1.0)
    if args.supervise:
        # Something for the supervisor to heal: short drops now and then, and a rare logout
        # (whose new QR the phone scans like the first).
        phones = phones.with_trouble(drop_rate=12.0, drop_seconds=5.0, logout_rate=2.0)
    async with (
        Simulator(phones=phones, config=config) as sim,
        Client(
            sim.client_token,
            sim.client_secret,
            base_url=sim.base_url,
            on_response=metrics.on_response if metrics is not None else None,
        ) as client,
    ):
        yield client


def _fail(problem: object) -> int:
    print(f"vzaps-async onboard: {problem}", file=sys.stderr)
    return 2


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
    async with contextlib.AsyncExitStack() as stack:
        # Everything that can refuse (the web port, the journal, the credentials) is set up
        # here, before the first request; a refusal exits 2 with nothing sent.
        try:
            # The journal first: one held by another run, or unusable, stops everything.
            journal = await stack.enter_async_context(_journal(args, simulate))
            presenter = await stack.enter_async_context(_presenter(args, simulate))
            if simulate:
                names = {s.name for s in specs}
                earlier = [s.name for s in await journal.load_all() if s.name in names]
                if earlier:
                    raise InputError(
                        "--journal",
                        f"{_journal_label(args)} holds {earlier[0]!r} from an earlier --simulate "
                        "run, whose in-process simulator is gone; pass a new --journal (or none), "
                        "or run a standalone simulator (vzaps-async simulator) with --base-url "
                        "for runs you want to resume",
                    )
            if not specs and isinstance(journal, PostgresJournal) and not await journal.exists():
                raise InputError(
                    "--job",
                    f"the job {args.job!r} has no instances; start it with --count or --input",
                )
            try:
                metrics = await stack.enter_async_context(serving_metrics(args.metrics_port))
            except OSError as exc:
                raise InputError(
                    "--metrics-port", f"cannot listen on {args.metrics_port} ({exc.strerror})"
                ) from None
            client = await stack.enter_async_context(_client(args, simulate, metrics))
        except (InputError, JournalError, MissingExtraError) as exc:
            return _fail(exc)
        fleet = Fleet(client, journal, specs, options=options, presenter=presenter)
        if metrics is not None:
            metrics.cooldown = client.transport.cooldown
            metrics.states = lambda: fleet.counts
        report: FleetReport | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_progress, fleet, live, out)
            if metrics is not None:
                tg.start_soon(feed_metrics, fleet, metrics)
            report = await fleet.run()
        output_error = None
        if args.output is not None:
            names = {s.name for s in specs}
            finals = [s for s in await journal.load_all() if s.name in names]
            finals.sort(key=lambda s: s.name)
            try:
                write_results(args.output, finals, args.include_tokens)
            except OSError as exc:
                output_error = f"--output {args.output}: not written ({exc.strerror or exc})"
        assert report is not None
        _summary(report, out)
        if output_error is not None:
            print(
                f"vzaps-async onboard: {output_error}; the journal has the results",
                file=sys.stderr,
            )
            return 1
        if args.supervise:
            supervisor = Supervisor(
                client,
                journal,
                options=supervisor_options(args),
                presenter=presenter,
                observer=metrics.observe if metrics is not None else None,
            )
            if metrics is not None:
                metrics.states = lambda: supervisor.counts
            supervision = await supervise_until_stopped(supervisor, args.duration)
            print_summary(supervision, out)
            return 0 if supervision.all_connected else 1
    return 0 if report.all_connected else 1


def _journal_label(args: argparse.Namespace) -> str:
    """How messages name the journal: a database by host and job (never its password)."""
    if is_dsn(args.journal):
        return f"the job {args.job!r} at {url_repr(args.journal)}"
    return str(args.journal)


def _check_args(args: argparse.Namespace) -> list[InstanceSpec]:
    """Every check that needs no network, in the order of the options; returns the specs."""
    for option, value in (("--count", args.count), ("--concurrency", args.concurrency)):
        if value is not None and value < 1:
            raise InputError(option, f"must be at least 1, got {value}")
    for option, number in (("--deadline", args.deadline), ("--poll-interval", args.poll_interval)):
        if not number > 0:  # also refuses NaN
            raise InputError(option, f"must be a number of seconds > 0, got {number}")
    if not 0 <= args.web_port <= 65535:
        raise InputError("--web-port", f"must be 0-65535 (0 = any free port), got {args.web_port}")
    shared = is_dsn(args.journal)
    if args.job and not shared:
        raise InputError("--job", "needs a postgresql://... --journal (a shared job)")
    if shared:
        open_job(args.journal, args.job, args.lease)  # checks --job and --lease
    if args.count is not None:
        specs = [
            InstanceSpec(f"{args.prefix}-{i:04d}", method="qr") for i in range(1, args.count + 1)
        ]
    elif args.input is not None:
        specs = load_specs(args.input, args.method)
    elif shared:
        specs = []  # join the job as it is
    else:
        raise InputError("--count/--input", "one is required (only a shared job can be joined)")
    if args.output is not None:
        _check_output(Path(args.output))
    if args.journal is not None and not shared:
        _check_folder("--journal", Path(args.journal).parent)
    if args.presenter == "png":
        folder = Path(args.png_folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError("--png-folder", f"cannot create {folder} ({exc.strerror})") from None
        _check_folder("--png-folder", folder)
    return specs


def _check_output(path: Path) -> None:
    if path.suffix.lower() not in (".json", ".csv"):
        raise InputError("--output", f"{path}: name a .json or .csv file")
    if path.is_dir():
        raise InputError("--output", f"{path} is a folder; name a file such as {path}/r.json")
    _check_folder("--output", path.parent)


def _check_folder(option: str, folder: Path) -> None:
    if not folder.is_dir():
        raise InputError(option, f"folder {folder} does not exist; create it or pick another")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(option, f"folder {folder} is not writable; pick another")


def _stopped_by(exc: BaseException) -> VZapsError | None:
    """The SDK error that alone stopped the run (the progress task wraps it in a group)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, VZapsError) else None


def main(argv: list[str] | None = None) -> int:
    """Run ``vzaps-async onboard`` and return its exit status.

    Args:
        argv: Arguments after ``onboard`` (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # Both are needed before any work: the display and summary, the simulator's QR codes.
        require("vzaps-async onboard", "cli", "rich", "segno")
        if is_dsn(args.journal):
            require("vzaps-async onboard --journal postgresql://...", "postgres", "asyncpg")
        specs = _check_args(args)
        if args.duration is not None and not args.supervise:
            raise InputError("--duration", "bounds supervision: use it with --supervise")
        supervisor_options(args)  # bad supervision options stop the run before any request
        check_metrics_port(args.metrics_port)
    except (InputError, MissingExtraError) as exc:
        return _fail(exc)
    have_credentials = bool(
        os.environ.get("VZAPS_CLIENT_TOKEN") and os.environ.get("VZAPS_CLIENT_SECRET")
    )
    if args.base_url and not have_credentials and not args.simulate:
        # Pointing at a host without credentials is a mistake, not a request for the simulator.
        return _fail(
            "--base-url needs VZAPS_CLIENT_TOKEN and VZAPS_CLIENT_SECRET "
            "(a standalone simulator prints them on start)"
        )
    simulate = args.simulate or not have_credentials
    if simulate and not args.simulate:
        print(
            "VZAPS_CLIENT_TOKEN/VZAPS_CLIENT_SECRET not set: using the local simulator",
            file=sys.stderr,
        )
    try:
        return anyio.run(_run, args, specs, simulate)
    except (VZapsError, BaseExceptionGroup) as exc:
        error = _stopped_by(exc)
        if error is None:
            raise
        if isinstance(error, InputError):
            return _fail(error)  # a spec the shared job has with other fields: nothing was sent
        if isinstance(error, JournalError):
            # Mid-run (an unusable journal at the start is refused in _run): work was done.
            print(
                f"vzaps-async onboard: {error}; instances created before it are adopted by name "
                "when the same command runs again",
                file=sys.stderr,
            )
            return 1
        # The account's inventory, read before anything is created, could not be read.
        print(f"vzaps-async onboard: reading the account's instances: {error}", file=sys.stderr)
        return 2 if isinstance(error, AuthenticationError | PermissionDeniedError) else 1
    except KeyboardInterrupt:
        if simulate:
            where = (
                "nothing to resume: the in-process simulator stopped with its instances "
                "(a standalone simulator with --base-url can be resumed)"
            )
        else:
            journal = _journal_label(args) if args.journal else _journal_path(args, simulate)
            where = (
                f"progress is kept in the journal {journal}; run the same command again to resume"
            )
        print(f"\ninterrupted; {where}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
