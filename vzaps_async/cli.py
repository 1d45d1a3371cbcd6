"""The ``vzaps-async`` command line.

Subcommands:

- ``onboard``: take a fleet of instances from nothing to connected (see ``onboard --help``).
- ``fleet status``: show a job shared through PostgreSQL (states, workers, failures).
- ``supervise``: keep a journal's instances connected (see ``supervise --help``).
- ``simulator``: run the local VZaps API simulator as its own process.
- ``status``: list the account's instances, or show one instance's WhatsApp session.
- ``send``: send one text message from an instance.
- ``webhook serve``: receive webhook deliveries and print the typed events.

Credentials come from ``VZAPS_CLIENT_TOKEN`` and ``VZAPS_CLIENT_SECRET`` (and ``VZAPS_BASE_URL``
for another host, such as a standalone simulator).

The command is installed by every variant; ``onboard`` needs the ``[cli]`` extra and
``simulator`` the ``[testing]`` one, and each says so (and exits 2) before doing any work.
Exit status: 0 success (every instance connected), 1 a request or some instance failed, 2 bad
input or usage, a missing extra, an unusable journal or refused credentials (nothing was
created), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence

from . import errors
from ._extras import MissingExtraError

__all__ = ["main"]

_USAGE = """usage: vzaps-async COMMAND [ARGS]

commands:
  onboard          onboard a fleet of instances (QR or pair code) to connected
  fleet status     show a shared (PostgreSQL) fleet job: states, workers, failures
  supervise        keep a journal's instances connected (drops, logouts, dead sessions)
  simulator        run the local VZaps API simulator
  status           list instances, or show one instance's session status
  send             send a text message from an instance
  webhook serve    receive webhook deliveries and print the events

Run 'vzaps-async COMMAND --help' for a command's options; 'vzaps-async --version' for the version.

exit status:
  0    success (for onboard: every instance connected)
  1    a request failed, or some instance did not connect (the same command resumes)
  2    bad input or usage, a missing extra, an unusable journal or refused credentials;
       nothing was created
  130  interrupted (Ctrl-C)
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vzaps-async")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def _onboard(argv: list[str]) -> int:
    from .onboarding._cli import main as onboard_main

    return onboard_main(argv)


def _fleet(argv: list[str]) -> int:
    from .onboarding._cli_job import status_main

    return status_main(argv)


def _supervise(argv: list[str]) -> int:
    from .onboarding._cli_supervise import main as supervise_main

    return supervise_main(argv)


def _simulator(argv: list[str]) -> int:
    from .testing.__main__ import main as simulator_main

    return simulator_main(argv, prog="vzaps-async simulator")


def _webhook(argv: list[str]) -> int:
    from .webhooks._cli import build_parser
    from .webhooks._cli import main as webhook_main

    if argv[:1] == ["serve"]:
        return webhook_main(argv[1:])
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: vzaps-async webhook serve [OPTIONS]\n")
        build_parser().print_help()
        return 0
    print("usage: vzaps-async webhook serve [--host H] [--port P] [--secret S]", file=sys.stderr)
    return 2


def _status(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vzaps-async status",
        description="List the account's instances, or show one instance's session status.",
    )
    parser.add_argument("instance_id", nargs="?", help="an instance id (VZ…); omit to list all")
    parser.add_argument("--token", help="the instance token (default: authenticate with the JWT)")
    args = parser.parse_args(argv)
    return asyncio.run(_run_status(args.instance_id, args.token))


async def _run_status(instance_id: str | None, token: str | None) -> int:
    from ._client import Client

    async with Client.from_env() as client:
        if instance_id is None:
            async for info in client.instances.iter():
                print(
                    f"{info.id}  {info.name:<30}  billing={info.billing_status}  "
                    f"connected={info.connected}"
                )
            return 0
        status = await client.instance(instance_id, token).session.status()
        print(json.dumps({"connected": status.connected, "phone": status.phone}, indent=2))
        return 0


def _send(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vzaps-async send", description="Send one text message from an instance."
    )
    parser.add_argument("instance_id", help="the sending instance (VZ…)")
    parser.add_argument("phone", help="recipient: country code + digits, e.g. 5511999999999")
    parser.add_argument("text", help="the message text")
    parser.add_argument("--token", help="the instance token (default: the account JWT)")
    args = parser.parse_args(argv)
    return asyncio.run(_run_send(args.instance_id, args.phone, args.text, args.token))


async def _run_send(instance_id: str, phone: str, text: str, token: str | None) -> int:
    from ._client import Client

    async with Client.from_env() as client:
        sent = await client.instance(instance_id, token).messages.send_text(phone, text)
        print(sent.message_id)
        return 0


_COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "fleet": _fleet,
    "onboard": _onboard,
    "send": _send,
    "simulator": _simulator,
    "status": _status,
    "supervise": _supervise,
    "webhook": _webhook,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vzaps-async`` command line and return its exit code.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_USAGE, end="", file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] == "--version":
        print(f"vzaps-async {_version()}")
        return 0
    command = _COMMANDS.get(args[0])
    if command is None:
        print(f"vzaps-async: unknown command {args[0]!r}\n\n{_USAGE}", end="", file=sys.stderr)
        return 2
    try:
        return command(args[1:])
    except (errors.InputError, errors.JournalError, MissingExtraError) as exc:
        # Caught before any request that matters: bad input, a journal that cannot be used.
        print(f"vzaps-async {args[0]}: {exc}", file=sys.stderr)
        return 2
    except errors.VZapsError as exc:
        # Exception text never carries secrets (see vzaps_async.errors), so it is safe to show.
        print(f"vzaps-async {args[0]}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
