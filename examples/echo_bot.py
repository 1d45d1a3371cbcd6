"""An echo bot: every incoming text message is answered with the same text.

Runs offline against an embedded simulator::

    python examples/echo_bot.py             # events through a webhook receiver
    python examples/echo_bot.py realtime    # events through the realtime WebSocket

The script starts a `Simulator`, creates and pairs an instance, wires the bot (a `Router` whose
handler calls ``messages.send_text``), injects an incoming message as if someone had written to the
instance, and prints the echo. Against the real API, drop the simulator: build the `Client` from
your credentials, serve ``webhook_app(router)`` on a public URL and point the instance's webhook
at it (or consume ``client.instance(id, token).events()``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from vzaps_async import Client, ClientConfig
from vzaps_async.models.events import Message
from vzaps_async.testing import Simulator
from vzaps_async.webhooks import Router, webhook_app

INCOMING = {
    "info": {
        "id": "3EB0C0FFEE",
        "chat": "5511988887777@s.whatsapp.net",
        "sender": "5511988887777@s.whatsapp.net",
        "is_from_me": False,
        "push_name": "Ana",
        "type": "text",
    },
    "message": {"conversation": "Olá, bot!"},
}


def echo_router(client: Client, instance_id: str, token: str, replied: asyncio.Event) -> Router:
    """Build the bot: answer each incoming text message with its own text.

    Args:
        client: The API client.
        instance_id: The bot's instance.
        token: The instance token.
        replied: Set once the bot has sent a reply (so the demo knows when to stop).
    """
    router = Router()
    instance = client.instance(instance_id, token)

    @router.on("Message", instance=instance_id)
    async def echo(event: Message) -> None:
        # Outgoing messages (our own replies included) arrive as Message events too.
        if event.is_from_me:
            print(f"  <- delivered to {event.chat}: {event.text!r}")
            return
        if not event.text or not event.reply_to:
            return
        print(f"  -> {event.info.push_name or event.chat} wrote {event.text!r}")
        sent = await instance.messages.send_text(event.reply_to, event.text)
        print(f"  echo sent as message {sent.message_id}")
        replied.set()

    return router


@asynccontextmanager
async def serve_receiver(router: Router) -> AsyncIterator[str]:
    """Serve the webhook receiver on 127.0.0.1 (a free port); yields its URL.

    Args:
        router: The bot's router.
    """
    runner = web.AppRunner(webhook_app(router))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/webhook"
    finally:
        await runner.cleanup()


async def main(mode: str = "webhook") -> int:
    """Run the demo; returns the exit status.

    Args:
        mode: ``"webhook"`` or ``"realtime"``.
    """
    async with (
        Simulator() as sim,
        Client(
            sim.client_token,
            sim.client_secret,
            config=ClientConfig(base_url=sim.base_url, realtime_url=sim.realtime_url),
        ) as client,
    ):
        created = await client.instances.create("echo-bot", events=["Message"])
        if created.token is None:
            print("the create response carried no instance token", file=sys.stderr)
            return 1
        token = created.token.reveal()
        instance = client.instance(created.id, token)
        await instance.session.qr()
        await sim.scan(created.id)  # the simulated phone scans the QR code
        print(f"instance {created.id} connected; receiving events by {mode}")

        replied = asyncio.Event()
        router = echo_router(client, created.id, token, replied)
        bus = sim.events

        if mode == "realtime":
            async with instance.events(["Message"]) as stream:
                consumer = asyncio.create_task(router.run_stream(stream))
                await bus.inject(created.id, "Message", INCOMING)
                await asyncio.wait_for(replied.wait(), 10)
                consumer.cancel()
        else:
            async with serve_receiver(router) as url:
                await instance.webhook.set(url, events=["Message"])
                await bus.inject(created.id, "Message", INCOMING)
                await asyncio.wait_for(replied.wait(), 10)
                await bus.settle()
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "webhook")))
