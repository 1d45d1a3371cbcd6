"""An aiohttp application that receives webhook deliveries and feeds them to a `Router`.

The receiver answers ``202 Accepted`` as soon as a delivery is validated and parsed, and runs the
handlers in the background, at most ``concurrency`` events at a time. A delivery takes its handler
slot *before* its body is read, so at most ``concurrency`` bodies (each at most ``max_body``
bytes) are in memory at once; while every slot is busy, up to ``max_waiting`` requests wait for
one with their bodies unread (which slows the sender down), and further ones get 503 with
``Retry-After``. A body must arrive within ``read_timeout`` seconds (else 408), and JSON nested
too deeply to parse is a 400. On shutdown, waiting requests get 503 at once; in-flight handlers
get up to ``drain_timeout`` seconds, then are cancelled.

VZaps does not sign deliveries. To keep strangers out, configure the webhook URL with a secret the
receiver checks: as a last path segment (``https://bot.example.com/webhook/<secret>``), as the query
``?secret=<secret>`` or as the header ``X-Webhook-Secret``. A secret in the path or the query shows
up in HTTP access logs (yours and any proxy's): turn those off or filter them, or prefer the header
where the sender can set one.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

import attrs
from aiohttp import web

from vzaps_async import _json
from vzaps_async._secret import Secret
from vzaps_async.models.events import Event, parse_event

from ._router import Router

__all__ = ["DEFAULT_MAX_BODY", "WebhookReceiver", "webhook_app"]

logger = logging.getLogger("vzaps_async.webhooks")

#: Default largest accepted body: 1 MiB.
DEFAULT_MAX_BODY = 1024 * 1024

SECRET_HEADER = "X-Webhook-Secret"
INSTANCE_HEADER = "X-Instance-ID"


def _problem(status: int, message: str, *, retry_after: int | None = None) -> web.Response:
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return web.json_response({"accepted": False, "error": message}, status=status, headers=headers)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


@attrs.define(eq=False)
class WebhookReceiver:
    """The state behind `webhook_app`: checks requests and runs handlers in the background.

    Args:
        router: Where events go.
        secret: The shared secret, or None to accept every caller.
        max_body: Largest accepted body in bytes.
        concurrency: How many events are handled (or bodies read) at the same time.
        drain_timeout: Seconds to wait for in-flight handlers on shutdown.
        max_waiting: Requests that may wait for a busy slot; more get 503.
        read_timeout: Seconds allowed to receive a body.
    """

    router: Router
    secret: Secret | None = None
    max_body: int = DEFAULT_MAX_BODY
    concurrency: int = 16
    drain_timeout: float = 30.0
    max_waiting: int = 64
    read_timeout: float = 10.0
    _slots: asyncio.Semaphore | None = attrs.field(default=None, init=False)
    _tasks: set[asyncio.Task[None]] = attrs.field(factory=set, init=False)
    _closing: bool = attrs.field(default=False, init=False)
    _closed: asyncio.Future[None] | None = attrs.field(default=None, init=False)
    _waiting: int = attrs.field(default=0, init=False)

    @property
    def in_flight(self) -> int:
        """How many events are being handled right now."""
        return len(self._tasks)

    def _check_secret(self, request: web.Request) -> web.Response | None:
        if self.secret is None:
            return None
        offered = (
            request.match_info.get("token")
            or request.query.get("secret")
            or request.headers.get(SECRET_HEADER)
        )
        if not offered:
            return _problem(401, "missing webhook secret")
        if not hmac.compare_digest(offered.encode(), self.secret.reveal().encode()):
            return _problem(403, "wrong webhook secret")
        return None

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        if request.content_length is not None and request.content_length > self.max_body:
            return _problem(413, f"body larger than {self.max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.read_timeout):
                async for chunk in request.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > self.max_body:
                        return _problem(413, f"body larger than {self.max_body} bytes")
                    chunks.append(chunk)
        except TimeoutError:
            return _problem(408, f"body not received within {self.read_timeout} s")
        return b"".join(chunks)

    async def _take_slot(self) -> web.Response | None:
        """Take a handler slot (None), or the answer when none can be had."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
            self._closed = asyncio.get_running_loop().create_future()
        if not self._slots.locked():
            await self._slots.acquire()  # free: returns at once
            return None
        if self._waiting >= self.max_waiting:
            return _problem(503, "receiver busy; retry later", retry_after=1)
        assert self._closed is not None
        self._waiting += 1
        acquire = asyncio.ensure_future(self._slots.acquire())
        either: set[asyncio.Future[Any]] = {acquire, self._closed}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # Cancelled (the client went away): a slot acquired meanwhile must not be kept.
            if acquire.done() and not acquire.cancelled():
                self._slots.release()
            raise
        finally:
            self._waiting -= 1
            if not acquire.done():
                acquire.cancel()
        if acquire.done() and not acquire.cancelled() and not self._closing:
            return None
        if acquire.done() and not acquire.cancelled():
            self._slots.release()
        return _problem(503, "receiver is shutting down")

    def _free_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()

    async def handle(self, request: web.Request) -> web.Response:
        """Validate one delivery, answer 202 and handle the event in the background.

        Args:
            request: The POST request.
        """
        refused = self._check_secret(request)
        if refused is not None:
            return refused
        if self._closing:
            return _problem(503, "receiver is shutting down")
        if not _is_json(request.content_type):
            return _problem(415, f"expected application/json, got {request.content_type}")
        refused = await self._take_slot()
        if refused is not None:
            return refused
        started = False
        try:
            answer = await self._accept(request)
            if isinstance(answer, web.Response):
                return answer
            self._start(answer)
            started = True
            return web.json_response({"accepted": True, "id": answer.id}, status=202)
        finally:
            if not started:  # the handler task releases the slot of an accepted event
                self._free_slot()

    async def _accept(self, request: web.Request) -> Event | web.Response:
        body = await self._read_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            payload: Any = _json.loads(body)
            if not isinstance(payload, dict):
                return _problem(400, "body must be a JSON object")
            event = parse_event(payload, instance_id=request.headers.get(INSTANCE_HEADER))
        except ValueError as exc:
            return _problem(400, f"body is not valid JSON: {exc}")
        except RecursionError:
            return _problem(400, "body is nested too deeply")
        if not event.type:
            return _problem(400, "body is not an event: no 'type' in the envelope or its data")
        return event

    def _start(self, event: Event) -> None:
        task = asyncio.create_task(self._run(event), name=f"webhook-event-{event.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, event: Event) -> None:
        try:
            await self.router.dispatch(event)
        except Exception:  # dispatch isolates handlers; this guards the router itself
            logger.exception("dispatching %s event %s failed", event.type, event.id)
        finally:
            self._free_slot()

    def close(self) -> None:
        """Stop accepting deliveries: new and waiting requests are answered 503 at once."""
        self._closing = True
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def drain(self) -> None:
        """Stop accepting deliveries and wait for in-flight handlers (cancelled after a timeout)."""
        self.close()
        pending = set(self._tasks)
        if not pending:
            return
        _, still_running = await asyncio.wait(pending, timeout=self.drain_timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            logger.warning("cancelled %d webhook handlers still running", len(still_running))
            await asyncio.wait(still_running)


#: Where `webhook_app` keeps its `WebhookReceiver`.
RECEIVER_KEY = web.AppKey("vzaps_webhook_receiver", WebhookReceiver)


def webhook_app(
    router: Router,
    *,
    secret: str | Secret | None = None,
    path: str = "/webhook",
    max_body: int = DEFAULT_MAX_BODY,
    concurrency: int = 16,
    drain_timeout: float = 30.0,
    max_waiting: int = 64,
    read_timeout: float = 10.0,
) -> web.Application:
    """Build an aiohttp application that receives webhook deliveries.

    Serve it on its own (``web.run_app(webhook_app(router))``) or mount it in an existing app
    (``app.add_subapp("/hooks", webhook_app(router))``; the URL is then ``/hooks/webhook``).

    Answers: 202 accepted (handlers run in the background); 400 malformed or too deeply nested
    JSON, or not an event; 401 secret missing; 403 secret wrong; 408 body too slow; 413 body too
    large; 415 not JSON; 503 busy (``Retry-After``) or shutting down.

    Args:
        router: Where events go.
        secret: Optional shared secret, accepted as a last path segment, the ``secret`` query
            parameter or the ``X-Webhook-Secret`` header.
        path: The route path.
        max_body: Largest accepted body in bytes (default 1 MiB).
        concurrency: How many events are handled (or bodies read) at the same time; with
            ``max_body`` it bounds the bytes buffered.
        drain_timeout: Seconds to wait for in-flight handlers on cleanup before cancelling them.
        max_waiting: Requests that may wait for a slot while all are busy; more get 503.
        read_timeout: Seconds allowed to receive a body (else 408).
    """
    if max_body <= 0:
        raise ValueError("max_body must be positive")
    if concurrency <= 0:
        raise ValueError("concurrency must be positive")
    if max_waiting < 0:
        raise ValueError("max_waiting must be >= 0")
    if not read_timeout > 0:
        raise ValueError("read_timeout must be positive")
    receiver = WebhookReceiver(
        router=router,
        secret=Secret(secret) if isinstance(secret, str) else secret,
        max_body=max_body,
        concurrency=concurrency,
        drain_timeout=drain_timeout,
        max_waiting=max_waiting,
        read_timeout=read_timeout,
    )
    app = web.Application()
    app[RECEIVER_KEY] = receiver
    route = "/" + path.strip("/")
    app.router.add_post(route, receiver.handle)
    app.router.add_post(route.rstrip("/") + "/{token}", receiver.handle)

    async def close(_: web.Application) -> None:
        # on_shutdown runs before aiohttp waits for open requests (its shutdown_timeout):
        # requests waiting for a slot are answered now instead of holding shutdown up.
        receiver.close()

    async def drain(_: web.Application) -> None:
        await receiver.drain()

    app.on_shutdown.append(close)
    app.on_cleanup.append(drain)
    return app
