"""Run the VZaps API simulator as its own process: ``python -m vzaps_async.testing``.

Prints ``VZAPS_BASE_URL=...``, ``VZAPS_REALTIME_URL=...``, ``VZAPS_CLIENT_TOKEN=...`` and
``VZAPS_CLIENT_SECRET=...`` (one per line, ready for ``export``) once it serves, and serves until
SIGINT/SIGTERM. Scripts wait for it with ``GET /__sim/health`` (200 once it serves).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from vzaps_async._extras import MissingExtraError, require

from ._config import SimulatorConfig
from ._faults import FaultRule, Faults
from ._phones import PhonePolicy
from ._server import Simulator

__all__ = ["build_parser", "main"]


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a probability in [0, 1], got {text}")
    return value


def _phones(text: str) -> PhonePolicy:
    try:
        return PhonePolicy.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(prog: str = "python -m vzaps_async.testing") -> argparse.ArgumentParser:
    """The command-line parser of the standalone simulator.

    Args:
        prog: The command name shown in usage and ``--help``.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local, stateful simulator of the VZaps public API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    parser.add_argument("--client-token", help="client token of the default account")
    parser.add_argument("--client-secret", help="client secret of the default account")
    parser.add_argument(
        "--phones",
        type=_phones,
        default=PhonePolicy.scan_after(3.0),
        help="'manual' or 'scan-after=SECONDS[,on-qr=N]' (default scan-after=3), optionally "
        "followed by ',drop-rate=R,drop-seconds=S,logout-rate=R,zombie-rate=R' (per connected "
        "hour): phones that misbehave on their own",
    )
    parser.add_argument("--jwt-lifetime", type=float, help="JWT lifetime in seconds (3600)")
    parser.add_argument("--qr-seconds", type=float, help="lifetime of later QR codes (20)")
    parser.add_argument("--first-qr-seconds", type=float, help="lifetime of the first QR (60)")
    parser.add_argument("--max-qr-attempts", type=int, help="QR codes per pairing run (6)")
    parser.add_argument("--rate-limit", type=float, help="requests/s per credential (off)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    parser.add_argument("--fault-5xx", type=_probability, default=0.0, help="5xx probability")
    parser.add_argument("--fault-429", type=_probability, default=0.0, help="429 probability")
    parser.add_argument("--fault-drop", type=_probability, default=0.0, help="drop probability")
    parser.add_argument(
        "--fault-commit-then-fail",
        type=_probability,
        default=0.0,
        help="probability of applying a request and then dropping the connection",
    )
    parser.add_argument("--seed", type=int, help="seed of the fault random source")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="accept only the documented form of each request (400 naming the field otherwise); "
        "without it, other forms are read and recorded at GET /__sim/contract",
    )
    parser.add_argument(
        "--webhook-reads",
        choices=("any", "webhookURL", "webhook_url"),
        default="any",
        help="which webhook-set field the server reads (any)",
    )
    return parser


def _config(args: argparse.Namespace) -> SimulatorConfig:
    overrides: dict[str, float | int | bool | str] = {
        "strict": args.strict,
        "webhook_reads": args.webhook_reads,
    }
    for option, field in (
        ("jwt_lifetime", "jwt_lifetime"),
        ("qr_seconds", "qr_seconds"),
        ("first_qr_seconds", "first_qr_seconds"),
        ("max_qr_attempts", "max_qr_attempts"),
        ("rate_limit", "rate_limit_per_second"),
    ):
        value = getattr(args, option)
        if value is not None:
            overrides[field] = value
    return SimulatorConfig(**overrides)  # type: ignore[arg-type]


def _faults(args: argparse.Namespace) -> Faults:
    rule = FaultRule(
        route="*",
        latency=args.latency_ms / 1000.0,
        error_5xx=args.fault_5xx,
        rate_limited=args.fault_429,
        drop=args.fault_drop,
        commit_then_fail=args.fault_commit_then_fail,
    )
    rules = [rule] if rule != FaultRule(route="*") else []
    return Faults(rules=rules, seed=args.seed)


async def _serve(args: argparse.Namespace) -> None:
    simulator = Simulator(
        _config(args),
        phones=args.phones,
        faults=_faults(args),
        host=args.host,
        port=args.port,
        client_token=args.client_token,
        client_secret=args.client_secret,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    async with simulator:
        print(f"VZAPS_BASE_URL={simulator.base_url}")
        print(f"VZAPS_REALTIME_URL={simulator.realtime_url}")
        print(f"VZAPS_CLIENT_TOKEN={simulator.client_token}")
        print(f"VZAPS_CLIENT_SECRET={simulator.client_secret}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None, prog: str = "python -m vzaps_async.testing") -> int:
    """Run the standalone simulator until SIGINT/SIGTERM; returns the exit status.

    Exit status: 0 after a clean stop, 1 when the port cannot be bound, 2 for bad options or
    a missing extra.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).
        prog: The command name shown in usage and errors.
    """
    args = build_parser(prog).parse_args(argv)
    try:
        require(prog, "testing", "segno")
    except MissingExtraError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"{prog}: cannot serve on {args.host}:{args.port} ({exc.strerror or exc}); "
            "pick another --port, or 0 for any free one",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
