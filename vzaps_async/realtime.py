"""Realtime events over the WebSocket: reconnect, resume, ack and dedupe handled for you.

Usage::

    async with RealtimeStream(session, realtime_url, instance_id, headers) as stream:
        async for event in stream:
            await handle(event)          # the ack is sent when the loop asks for the next event

Acknowledgement: the stream acks an event (``{"type": "ack", "event_id": ...}``) when the consumer
asks for the next one, i.e. after the body of the ``async for`` has finished with it — so an event
is acked only once it was handled. Call `RealtimeStream.ack` to ack earlier (or from elsewhere).
An event whose handling was interrupted (crash, cancellation) is not acked; the server redelivers
it.

Resilience: a dropped connection, a close frame or no frame for ``stale_after`` seconds makes the
stream reconnect, waiting with exponential backoff and full jitter, and resume with
``last_event_id`` set to the last acked event. Delivery is at-least-once, so events already seen
(by id, within a bounded window) are acked again and skipped. Frames that are not events are
ignored. Credentials go in the upgrade request's headers (the JWT, X-Client-Token and
X-Instance-Token, as every official SDK sends them); ``query_credentials=True`` also puts them in
the URL's query string, as the Python, Go, TypeScript and PHP SDKs do for browsers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Self

import aiohttp
import attrs
from yarl import URL

from vzaps_async import _json
from vzaps_async._retry import full_jitter
from vzaps_async.errors import AuthenticationError, ConnectError, PermissionDeniedError
from vzaps_async.models.events import BaseEvent, Event, parse_event

__all__ = ["RealtimeStream"]

logger = logging.getLogger("vzaps_async.realtime")

HeadersFactory = Callable[[], Awaitable[dict[str, str]]]

# Close codes a server may use right after accepting to refuse credentials.
_AUTH_CLOSE_CODES = {4401: AuthenticationError, 4403: PermissionDeniedError}
_CLOSING = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


def _type_names(types: Iterable[str] | None) -> tuple[str, ...] | None:
    if types is None:
        return None
    if isinstance(types, str):
        types = types.split(",")
    names = tuple(dict.fromkeys(str(t).strip() for t in types if str(t).strip()))
    return names or None


def _strip_slash(url: str) -> str:
    return str(url).rstrip("/")


def _query_credentials(headers: dict[str, str]) -> dict[str, str]:
    query = {}
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        query["access_token"] = auth[len("Bearer ") :]
    for header, name in (
        ("X-Client-Token", "client_token"),
        ("X-Instance-Token", "instance_token"),
    ):
        if header in headers:
            query[name] = headers[header]
    return query


@attrs.define(eq=False)
class RealtimeStream:
    """An async iterator of one instance's events from the realtime WebSocket.

    Args:
        session: The aiohttp session to connect with (not closed by the stream).
        realtime_url: Base URL, e.g. ``wss://realtime.vzaps.com`` or ``ws://127.0.0.1:8080``.
        instance_id: The instance to watch.
        headers_factory: Returns the upgrade's auth headers (``Authorization``,
            ``X-Client-Token``, ``X-Instance-Token``); called before every (re)connection, so a
            refreshed JWT is picked up.
        types: Event types to receive (None: the instance's subscribed events).
        last_event_id: Resume after this event id on the first connection.
        heartbeat: Seconds between WebSocket pings (a missing pong closes the connection).
        stale_after: Reconnect when no frame arrived for this many seconds.
        backoff_base: First reconnect delay cap in seconds (doubles per failed attempt, as
            counted for ``max_reconnects``).
        backoff_max: Largest reconnect delay cap in seconds.
        max_reconnects: Give up (raise `ConnectError`) after this many failed connection attempts
            in a row; None retries forever. A connection the server closes before sending any
            frame, less than ``stale_after`` seconds after it opened, counts as a failed attempt
            too; a connection that delivered a frame or stayed open that long resets the count.
        dedupe_window: How many recent event ids are remembered to drop redeliveries.
        query_credentials: Also send the credentials in the URL's query (``access_token``,
            ``client_token``, ``instance_token``); off by default, since URLs end up in proxy
            and access logs.
    """

    session: aiohttp.ClientSession
    realtime_url: str = attrs.field(converter=_strip_slash)
    instance_id: str
    headers_factory: HeadersFactory = attrs.field(repr=False)
    types: tuple[str, ...] | None = attrs.field(default=None, converter=_type_names)
    last_event_id: str | None = None
    heartbeat: float = 20.0
    stale_after: float = 60.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_reconnects: int | None = None
    dedupe_window: int = 10_000
    query_credentials: bool = False
    _ws: aiohttp.ClientWebSocketResponse | None = attrs.field(default=None, init=False)
    _pending_ack: BaseEvent | None = attrs.field(default=None, init=False)
    _seen: OrderedDict[str, None] = attrs.field(factory=OrderedDict, init=False)
    _closed: bool = attrs.field(default=False, init=False)
    _closed_event: asyncio.Event = attrs.field(factory=asyncio.Event, init=False, repr=False)
    _failures: int = attrs.field(default=0, init=False)
    _healthy: bool = attrs.field(default=False, init=False)
    _opened_at: float = attrs.field(default=0.0, init=False)
    _connections: int = attrs.field(default=0, init=False)

    @property
    def connections(self) -> int:
        """How many times the stream has connected (reconnects included)."""
        return self._connections

    @property
    def url(self) -> URL:
        """The socket URL for the next connection (carries no credentials)."""
        query: dict[str, str] = {"instance_id": self.instance_id}
        if self.types:
            query["events"] = ",".join(self.types)
        if self.last_event_id:
            query["last_event_id"] = self.last_event_id
        return URL(self.realtime_url + "/events/ws").with_query(query)

    async def __aenter__(self) -> Self:
        await self._ensure_connected()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Leaving the block normally means the last event was handled; after an error it was not.
        if exc_type is None:
            await self._ack_pending()
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; iteration stops."""
        self._closed = True
        self._closed_event.set()
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        await self._ack_pending()
        while not self._closed:
            ws = await self._ensure_connected()
            if ws is None:
                break
            event = await self._receive_event(ws)
            if event is None:
                continue
            if event.id is not None:
                if event.id in self._seen:
                    # A redelivery of something already handled: ack again so the server stops.
                    await self._send_ack(event.id)
                    continue
                self._remember(event.id)
                self._pending_ack = event
            return event
        raise StopAsyncIteration

    async def ack(self, event: BaseEvent) -> None:
        """Acknowledge a handled event now (otherwise it is acked when the next one is asked for).

        Args:
            event: The event to ack.
        """
        if self._pending_ack is not None and self._pending_ack.id == event.id:
            self._pending_ack = None
        if event.id is not None:
            self.last_event_id = event.id
            await self._send_ack(event.id)

    async def _ack_pending(self) -> None:
        event, self._pending_ack = self._pending_ack, None
        if event is not None:
            await self.ack(event)

    async def _send_ack(self, event_id: str) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            # The resume cursor already covers it: the next connection starts after it.
            return
        try:
            await ws.send_json({"type": "ack", "event_id": event_id})
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            logger.debug("ack of %s not sent: connection lost", event_id)

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        while len(self._seen) > self.dedupe_window:
            self._seen.popitem(last=False)

    async def _receive_event(self, ws: aiohttp.ClientWebSocketResponse) -> Event | None:
        """Read one frame; an event, or None after a non-event frame or a lost connection."""
        try:
            message = await ws.receive(timeout=self.stale_after)
        except TimeoutError:
            await self._drop(ws)
            self._connection_ended(f"no frame for {self.stale_after:.0f} s")
            return None
        if message.type == aiohttp.WSMsgType.TEXT:
            self._mark_healthy()
            return self._parse(message.data)
        if message.type == aiohttp.WSMsgType.BINARY:
            self._mark_healthy()
            return self._parse(message.data.decode("utf-8", "replace"))
        if message.type in _CLOSING or message.type == aiohttp.WSMsgType.ERROR:
            code = ws.close_code
            await self._drop(ws)
            if code in _AUTH_CLOSE_CODES:
                raise _AUTH_CLOSE_CODES[code](code, "realtime connection refused by the server")
            self._connection_ended(f"connection closed (code {code})")
        return None

    def _mark_healthy(self) -> None:
        self._healthy = True
        self._failures = 0

    def _connection_ended(self, what: str) -> None:
        # A successful handshake alone proves little: a server that accepts and closes at once
        # would otherwise reset the count each time, so backoff never grew and max_reconnects
        # never applied.
        if self._closed:
            # aclose() closed it: no failure, and no ConnectError in place of the end of iteration.
            return
        uptime = asyncio.get_running_loop().time() - self._opened_at
        if self._healthy or uptime >= self.stale_after:
            self._failures = 0
            logger.info("realtime: %s, reconnecting", what)
        else:
            self._note_failure(f"{what} before any frame")

    def _parse(self, text: str) -> Event | None:
        try:
            frame: Any = _json.loads(text)
        except ValueError:
            logger.debug("realtime: ignoring a frame that is not JSON")
            return None
        # Control frames (acks echoed, pings, hellos) carry no event id or no type.
        if not isinstance(frame, dict) or not frame.get("id") or not frame.get("type"):
            return None
        if frame.get("type") == "ack" and "data" not in frame:
            return None
        return parse_event(frame, instance_id=self.instance_id)

    async def _drop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        if self._ws is ws:
            self._ws = None
        if not ws.closed:
            await ws.close()

    def _is_open(self) -> bool:
        return not self._closed

    async def _ensure_connected(self) -> aiohttp.ClientWebSocketResponse | None:
        while self._is_open():
            if self._ws is not None and not self._ws.closed:
                return self._ws
            if self._connections or self._failures:
                await self._backoff()
                if not self._is_open():
                    break
            try:
                headers = await self.headers_factory()
                url = self.url
                if self.query_credentials:
                    url = url.update_query(_query_credentials(headers))
                ws = await self.session.ws_connect(
                    url, headers=headers, heartbeat=self.heartbeat, autoping=True
                )
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status in (401, 403):
                    error = AuthenticationError if exc.status == 401 else PermissionDeniedError
                    raise error(
                        exc.status, "realtime connection refused", method="GET", path="/events/ws"
                    ) from None
                self._note_failure(f"handshake answered HTTP {exc.status}")
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                self._note_failure(type(exc).__name__)
            else:
                if self._closed:
                    # aclose() ran during the handshake and found no socket to close: this one
                    # must not outlive it, nor deliver events after it returned.
                    await ws.close()
                    break
                self._ws = ws
                self._connections += 1
                self._healthy = False
                self._opened_at = asyncio.get_running_loop().time()
                return ws
        return None

    def _note_failure(self, what: str) -> None:
        self._failures += 1
        logger.info("realtime: connection attempt %d failed (%s)", self._failures, what)
        if self.max_reconnects is not None and self._failures > self.max_reconnects:
            raise ConnectError(
                f"realtime connection failed {self._failures} times in a row ({what})",
                method="GET",
                path="/events/ws",
            )

    async def _backoff(self) -> None:
        # The first reconnect after a clean drop waits up to backoff_base; each failure doubles it.
        delay = full_jitter(self._failures + 1, base=self.backoff_base, cap=self.backoff_max)
        # Waiting on the close event rather than sleeping lets aclose() from another task end
        # the wait at once instead of after up to backoff_max seconds.
        try:
            async with asyncio.timeout(delay):
                await self._closed_event.wait()
        except TimeoutError:
            pass
