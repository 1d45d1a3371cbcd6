"""The simulator's realtime server (``GET /events/ws``): subscribers, replay and acks.

Credentials come from headers or from the ``access_token``, ``client_token`` and
``instance_token`` query parameters; ``events`` is a comma list or repeated parameters,
case-insensitive, ``All`` accepted. A known ``last_event_id`` replays the retained events after
it, then the socket goes live; without a cursor, retained events no client has acked are sent
first. Every subscriber of an instance gets its own copy.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from aiohttp import web

from ._auth import authorize_instance
from ._contract import CONTRACT_KEY, ContractLog, ack_deviation
from ._http import SimError
from ._model import SimInstance

if TYPE_CHECKING:
    from ._events import EventBus

__all__ = ["RealtimeServer", "subscription_filter", "wanted"]

_ACK_KEYS = ("event_id", "id", "eventId")


def wanted(filter_names: frozenset[str] | None, event_type: str) -> bool:
    """Whether a filter (``None`` = every type) lets an event type through.

    Args:
        filter_names: Lower-case event type names, or ``None``.
        event_type: The event's type.
    """
    return filter_names is None or event_type.lower() in filter_names


def subscription_filter(instance: SimInstance) -> frozenset[str] | None:
    """The instance's ``events_subscribe`` as a filter (empty or ``All`` = every type).

    Args:
        instance: The instance.
    """
    names = {n.lower() for n in instance.events_subscribe}
    return None if not names or "all" in names else frozenset(names)


@attrs.define(eq=False)
class _Subscriber:
    """One realtime connection."""

    instance_id: str
    request: web.Request
    ws: web.WebSocketResponse
    filter_names: frozenset[str] | None
    queue: asyncio.Queue[dict[str, Any]] = attrs.field(factory=asyncio.Queue)


@attrs.define(eq=False)
class RealtimeServer:
    """The realtime connections of one `EventBus` and the events their clients acked.

    Args:
        bus: The bus whose retained events are replayed.
    """

    bus: EventBus
    _acked: dict[str, set[str]] = attrs.field(factory=dict, init=False)
    _subscribers: dict[str, set[_Subscriber]] = attrs.field(factory=dict, init=False)

    def send(self, instance_id: str, envelope: dict[str, Any]) -> None:
        """Queue an envelope for every subscriber of the instance that wants its type.

        Args:
            instance_id: The instance id.
            envelope: The event envelope.
        """
        for subscriber in self._subscribers.get(instance_id, ()):
            if wanted(subscriber.filter_names, envelope["type"]):
                subscriber.queue.put_nowait(envelope)

    def _replay(
        self, instance_id: str, cursor: str | None, filter_names: frozenset[str] | None
    ) -> list[dict[str, Any]]:
        retained = list(self.bus.events_of(instance_id))
        ids = [env["id"] for env in retained]
        if cursor is not None and cursor in ids:
            start = bisect.bisect_right(ids, cursor)
            chosen = retained[start:]
        else:
            # No usable cursor: every retained event no realtime client has acked yet (never
            # delivered, or delivered and not acked), oldest first.
            acked = self._acked.get(instance_id, set())
            chosen = [
                env
                for env in retained
                if env["id"] not in acked and (cursor is None or env["id"] > cursor)
            ]
        return [env for env in chosen if wanted(filter_names, env["type"])]

    def _ack(self, instance_id: str, event_id: str) -> None:
        acked = self._acked.setdefault(instance_id, set())
        acked.add(event_id)
        # Forget acks of events that are no longer retained, so the set stays bounded.
        if len(acked) > 2 * max(1, self.bus.retention):
            retained = {env["id"] for env in self.bus.events_of(instance_id)}
            acked.intersection_update(retained)

    def subscriber_count(self, instance_id: str) -> int:
        """How many realtime connections an instance has.

        Args:
            instance_id: The instance id.
        """
        return len(self._subscribers.get(instance_id, ()))

    async def drop_connections(self, instance_id: str) -> int:
        """Cut every realtime connection of an instance without a close frame; returns how many.

        Args:
            instance_id: The instance id.
        """
        subscribers = list(self._subscribers.get(instance_id, ()))
        for subscriber in subscribers:
            transport = subscriber.request.transport
            if transport is not None:
                transport.abort()
        return len(subscribers)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """The ``GET /events/ws`` handler.

        Args:
            request: The upgrade request.
        """
        instance_id = request.query.get("instance_id", "")
        if not instance_id:
            raise SimError(400, "VALIDATION_ERROR", "instance_id query parameter is required")
        instance = await authorize_instance(
            _with_query_credentials(request), self.bus.state, instance_id
        )
        filter_names = _requested_filter(request) or subscription_filter(instance)
        cursor = request.query.get("last_event_id") or None
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        subscriber = _Subscriber(instance.id, request, ws, filter_names)
        # Replay and registration happen with no await in between, so no event is missed or
        # queued twice.
        for envelope in self._replay(instance.id, cursor, filter_names):
            subscriber.queue.put_nowait(envelope)
        self._subscribers.setdefault(instance.id, set()).add(subscriber)
        sender = asyncio.get_running_loop().create_task(self._send_loop(subscriber))
        try:
            log = request.app.get(CONTRACT_KEY)
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._on_client_frame(instance.id, message.data, log)
        finally:
            self._subscribers.get(instance.id, set()).discard(subscriber)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        return ws

    async def _send_loop(self, subscriber: _Subscriber) -> None:
        while True:
            envelope = await subscriber.queue.get()
            try:
                await subscriber.ws.send_str(json.dumps(envelope, separators=(",", ":")))
            except (ConnectionError, RuntimeError):
                return

    def _on_client_frame(self, instance_id: str, text: str, log: ContractLog | None) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            return
        if not isinstance(frame, dict) or str(frame.get("type", "")).lower() != "ack":
            return
        deviation = ack_deviation(frame)
        if deviation is not None:
            if self.bus.state.config.strict:
                # Strict: only the documented key acks; the event stays unacked (redelivered).
                return
            if log is not None:
                log.record([deviation])
        for key in _ACK_KEYS:
            if isinstance(frame.get(key), str):
                self._ack(instance_id, frame[key])
                return

    async def close_connections(self) -> None:
        """Close every realtime connection (with a going-away close frame)."""
        for subscribers in list(self._subscribers.values()):
            for subscriber in list(subscribers):
                await subscriber.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)


def _with_query_credentials(request: web.Request) -> web.Request:
    """A copy of the request whose headers also carry the credentials sent in the query."""
    query = request.query
    headers = dict(request.headers)
    if query.get("access_token") and "Authorization" not in request.headers:
        headers["Authorization"] = f"Bearer {query['access_token']}"
    if query.get("client_token") and "X-Client-Token" not in request.headers:
        headers["X-Client-Token"] = query["client_token"]
    if query.get("instance_token") and "X-Instance-Token" not in request.headers:
        headers["X-Instance-Token"] = query["instance_token"]
    if len(headers) == len(request.headers):
        return request
    return request.clone(headers=headers)


def _requested_filter(request: web.Request) -> frozenset[str] | None:
    names: set[str] = set()
    for value in request.query.getall("events", []):
        names.update(part.strip().lower() for part in value.split(",") if part.strip())
    if not names:
        return None
    return None if "all" in names else frozenset(names)
