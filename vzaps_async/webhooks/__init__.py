"""Receive VZaps events: a `Router` for handlers and an aiohttp webhook receiver.

Example::

    from aiohttp import web
    from vzaps_async.models.events import Message
    from vzaps_async.webhooks import Router, webhook_app

    router = Router()

    @router.on("Message")
    async def on_message(event: Message) -> None:
        print(event.chat, event.text)

    web.run_app(webhook_app(router, secret="long-random-string"), port=8000)

The same router can consume the realtime WebSocket: ``await router.run_stream(stream)``.
"""

from __future__ import annotations

from ._receiver import DEFAULT_MAX_BODY, RECEIVER_KEY, WebhookReceiver, webhook_app
from ._router import ALL_EVENTS, EventSource, Handler, Router

__all__ = [
    "ALL_EVENTS",
    "DEFAULT_MAX_BODY",
    "RECEIVER_KEY",
    "EventSource",
    "Handler",
    "Router",
    "WebhookReceiver",
    "webhook_app",
]
