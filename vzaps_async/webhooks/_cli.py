"""``vzaps-async webhook serve``: a webhook receiver that logs every event it gets."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from vzaps_async.models.events import BaseEvent, Message, ReadReceipt

from ._receiver import DEFAULT_MAX_BODY, webhook_app
from ._router import Router

__all__ = ["build_parser", "describe", "main", "print_router"]

logger = logging.getLogger("vzaps_async.webhooks")


def describe(event: BaseEvent) -> str:
    """Return a one-line summary of an event for logs.

    Args:
        event: The event.
    """
    parts = [event.type or "?", event.id or "-", f"instance={event.instance_id or '-'}"]
    if isinstance(event, Message):
        if event.chat:
            parts.append(f"chat={event.chat}")
        parts.append("out" if event.info.is_from_me else "in")
        parts.append(repr(event.text) if event.text is not None else "(no text)")
    elif isinstance(event, ReadReceipt):
        parts += [f"state={event.state}", f"messages={','.join(event.message_ids)}"]
    if event.media_url:
        parts.append(f"media={event.media_url}")
    return " ".join(parts)


def print_router() -> Router:
    """Return a router with one handler that logs every event at INFO level."""
    router = Router()

    @router.on("*")
    async def log_event(event: BaseEvent) -> None:
        logger.info("event %s", describe(event))

    return router


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``vzaps-async webhook serve``."""
    serve = argparse.ArgumentParser(
        prog="vzaps-async webhook serve",
        description="Serve a webhook receiver that logs every event it receives.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (8000)")
    serve.add_argument(
        "--secret",
        default=None,
        help="shared secret required as a path segment, ?secret= or X-Webhook-Secret",
    )
    serve.add_argument("--path", default="/webhook", help="route path (/webhook)")
    serve.add_argument(
        "--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest body in bytes (1 MiB)"
    )
    serve.add_argument("--concurrency", type=int, default=16, help="events handled at once (16)")
    serve.add_argument(
        "--max-waiting", type=int, default=64, help="requests waiting for a slot; more get 503"
    )
    serve.add_argument(
        "--read-timeout", type=float, default=10.0, help="seconds to receive a body (10)"
    )
    serve.add_argument(
        "--drain-timeout", type=float, default=5.0, help="seconds handlers get on shutdown (5)"
    )
    return serve


def main(argv: list[str] | None = None) -> int:
    """Run ``vzaps-async webhook ...``; returns the exit status.

    Args:
        argv: The options (``--host``, ``--port``, ...); leading ``webhook`` and ``serve`` words
            are skipped, so the full command line works too. Default ``sys.argv[1:]``.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    for word in ("webhook", "serve"):
        if args_list[:1] == [word]:
            args_list = args_list[1:]
    args = build_parser().parse_args(args_list)
    if not 0 <= args.port <= 65535:
        print(
            f"vzaps-async webhook serve: --port must be 0-65535, got {args.port}", file=sys.stderr
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        app = webhook_app(
            print_router(),
            secret=args.secret,
            path=args.path,
            max_body=args.max_body,
            concurrency=args.concurrency,
            max_waiting=args.max_waiting,
            read_timeout=args.read_timeout,
            drain_timeout=args.drain_timeout,
        )
    except ValueError as exc:
        print(f"vzaps-async webhook serve: {exc}", file=sys.stderr)
        return 2
    shown_path = "/" + args.path.strip("/")
    suffix = "/<secret>" if args.secret else ""
    print(f"Receiving webhooks on http://{args.host}:{args.port}{shown_path}{suffix}")
    # No access log: a secret sent as a path segment or query parameter would end up in it.
    try:
        # shutdown_timeout: requests are answered at once on shutdown, handlers get
        # --drain-timeout; nothing else needs aiohttp's default minute.
        web.run_app(
            app, host=args.host, port=args.port, print=None, access_log=None, shutdown_timeout=1.0
        )
    except OSError as exc:
        print(
            f"vzaps-async webhook serve: cannot listen on {args.host}:{args.port} "
            f"({exc.strerror or exc}); pick another --port",
            file=sys.stderr,
        )
        return 2
    return 0
