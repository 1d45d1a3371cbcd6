"""Receive VZaps webhooks in a FastAPI (or Starlette) application.

The aiohttp receiver (`vzaps_async.webhooks.webhook_app`) is the ready-made option; this example
shows the same rules in FastAPI: check the shared secret, refuse big or non-JSON bodies, answer
202 at once and run the `Router` in the background, deduplicating by event id.

    pip install fastapi uvicorn
    WEBHOOK_SECRET=long-random-string uvicorn examples.webhook_fastapi:app --port 8000

Configure the instance's webhook as ``https://your-host/webhook?secret=long-random-string``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from vzaps_async.models.events import Message, parse_event
from vzaps_async.webhooks import Router

MAX_BODY = 1024 * 1024
SECRET = os.environ.get("WEBHOOK_SECRET", "")

router = Router()
background: set[asyncio.Task[bool]] = set()


@router.on("Message")
async def on_message(event: Message) -> None:
    """Print incoming messages (replace with your bot's logic)."""
    if not event.is_from_me:
        print(f"{event.instance_id} {event.chat}: {event.text!r}")


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Let in-flight handlers finish when the server stops."""
    yield
    if background:
        await asyncio.wait(background, timeout=30)


app = FastAPI(lifespan=lifespan)


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"accepted": False, "error": message}, status_code=status)


@app.post("/webhook", status_code=202)
async def webhook(request: Request) -> JSONResponse:
    """Validate one delivery and dispatch it in the background."""
    if SECRET:
        offered = request.query_params.get("secret") or request.headers.get("x-webhook-secret")
        if not offered:
            return _problem(401, "missing webhook secret")
        if not hmac.compare_digest(offered.encode(), SECRET.encode()):
            return _problem(403, "wrong webhook secret")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _problem(415, "expected application/json")
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return _problem(413, "body too large")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _problem(413, "body too large")
    try:
        payload = json.loads(body)
    except ValueError:
        return _problem(400, "body is not valid JSON")
    if not isinstance(payload, dict):
        return _problem(400, "body must be a JSON object")
    event = parse_event(payload, instance_id=request.headers.get("x-instance-id"))
    task = asyncio.create_task(router.dispatch(event))  # dedupes by event id
    background.add(task)
    task.add_done_callback(background.discard)
    return JSONResponse({"accepted": True, "id": event.id}, status_code=202)
