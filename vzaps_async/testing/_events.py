"""Simulator events: the event bus, webhook configuration and delivery, and the realtime socket.

Every event of an instance (published by the core, e.g. ``Connected``, or injected by a test) gets
the contract's envelope::

    {"id": "evt_<26 chars>", "type": "Message", "instance_id": "VZ...",
     "created_at": "2026-06-23T22:57:17.000Z",
     "data": {"type": "Message", "event": {...}, "media_url": "https://..."}}

Ids are ULID-like and strictly increasing, so they order events of an instance (the realtime
resume cursor relies on that). The bus keeps a bounded log of recent events per instance.

Simulator choices where the contract is silent (all adjustable on the `EventBus`):

- An instance whose ``events_subscribe`` is empty or contains ``All`` receives every event type,
  unknown ones included; otherwise only the listed types.
- Webhooks: the full envelope is POSTed with ``Content-Type: application/json``,
  ``X-Instance-ID`` and ``User-Agent``; success is a 2xx answer within `EventBus.timeout`; failed
  attempts are retried after `EventBus.retry_delays` (default 0, 10 and 60 seconds). Every delivery
  has a log (``log_...``: ``pending`` -> ``success``/``failed``). `EventBus.deliver_twice` (or a
  `EventBus.duplicate_rate` probability) delivers an event a second time, with its own log, to
  exercise receivers' deduplication. By default deliveries go only to loopback hosts
  (`EventBus.local_only`); any other URL gets a failed log and no network traffic.
- Realtime (``GET /events/ws``): credentials from headers or from the ``access_token``,
  ``client_token`` and ``instance_token`` query parameters; ``events`` as a comma list or repeated
  parameters, case-insensitive, ``All`` accepted; a known ``last_event_id`` replays the retained
  events after it, then the socket goes live; without a cursor, retained events no client has acked
  are sent first. Acks may use ``event_id``, ``id`` or ``eventId`` (strict: only ``event_id``;
  lenient records the others at ``GET /__sim/contract``). Every subscriber of an instance gets
  its own copy.

Control API: ``POST /__sim/instances/{id}/events`` injects an event, ``POST
/__sim/instances/{id}/drop-realtime`` drops the instance's realtime connections and ``POST
/__sim/events/config`` changes the delivery settings.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import math
import random
import secrets
from collections import OrderedDict, deque
from typing import Any, Literal

import aiohttp
import attrs
from aiohttp import web
from yarl import URL

from ._auth import authorize_instance, get_state
from ._contract import CONTRACT_KEY, ContractLog, ack_deviation
from ._http import SimError, flat, ok, read_json
from ._state import EVENT_NAMES, SimInstance, SimState

__all__ = [
    "BUS_KEY",
    "DeliveryLog",
    "EventBus",
    "get_bus",
    "setup",
]

_log = logging.getLogger("vzaps_async.testing")

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_ACK_KEYS = ("event_id", "id", "eventId")

LogStatus = Literal["pending", "success", "failed"]


def _encode_base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def iso_ms(timestamp: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with milliseconds (``2026-06-23T22:57:17.000Z``).

    Args:
        timestamp: Seconds since the epoch.
    """
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_or_none(timestamp: float | None) -> str | None:
    return None if timestamp is None else iso_ms(timestamp)


@attrs.define
class _IdGenerator:
    """ULID-like ids: 48-bit milliseconds + 80 random bits, strictly increasing."""

    last_ms: int = -1
    last_random: int = 0

    def next(self, now: float) -> str:
        ms = max(int(now * 1000), self.last_ms)
        if ms == self.last_ms:
            self.last_random += 1
        else:
            # Leave headroom so increments within one millisecond never overflow.
            self.last_random = secrets.randbits(_RANDOM_BITS - 1)
        self.last_ms = ms
        return "evt_" + _encode_base32(ms, 10) + _encode_base32(self.last_random, 16)


@attrs.define(eq=False)
class DeliveryLog:
    """One webhook delivery of one event, with its attempts.

    Args:
        id: ``log_...``.
        instance_id: The instance.
        event_id: The delivered event's id.
        event_type: The delivered event's type.
        url: The webhook URL.
        payload: The POSTed envelope.
        created_at: When the delivery was created (epoch seconds).
    """

    id: str
    instance_id: str
    event_id: str
    event_type: str
    url: str
    payload: dict[str, Any]
    created_at: float
    status: LogStatus = "pending"
    attempts: int = 0
    response_status: int | None = None
    response_body: str | None = None
    error: str | None = None
    duplicate: bool = False
    last_attempt_at: float | None = None
    next_attempt_at: float | None = None

    def to_wire(self) -> dict[str, Any]:
        """The log as the API shows it."""
        return {
            "id": self.id,
            "instance_id": self.instance_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "payload": self.payload,
            "response_status": self.response_status,
            "response_body": self.response_body,
            "error": self.error,
            "duplicate": self.duplicate,
            "created_at": iso_ms(self.created_at),
            "last_attempt_at": None
            if self.last_attempt_at is None
            else iso_ms(self.last_attempt_at),
            "next_attempt_at": None
            if self.next_attempt_at is None
            else iso_ms(self.next_attempt_at),
        }


def _wanted(filter_names: frozenset[str] | None, event_type: str) -> bool:
    return filter_names is None or event_type.lower() in filter_names


def _subscription_filter(instance: SimInstance) -> frozenset[str] | None:
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
class EventBus:
    """Publishes instance events to webhooks and realtime subscribers; the simulator's event hub.

    Args:
        state: The simulator state (instances, clock).
        retry_delays: Seconds to wait before each delivery attempt (first one included).
        timeout: Seconds a webhook receiver has to answer.
        retention: Events kept per instance for realtime replay.
        log_retention: Delivery logs kept per instance.
        deliver_twice: Deliver every webhook event twice (receiver dedupe tests).
        duplicate_rate: Probability in [0, 1] of delivering a webhook event twice.
        user_agent: ``User-Agent`` of deliveries.
        local_only: Deliver only to loopback hosts (``127.0.0.1``, ``::1``, ``localhost``); other
            URLs get a failed log without any network traffic, so that test suites configuring
            example URLs never reach the internet. Turn off to deliver anywhere.
    """

    state: SimState
    retry_delays: tuple[float, ...] = (0.0, 10.0, 60.0)
    timeout: float = 10.0
    retention: int = 1000
    log_retention: int = 1000
    deliver_twice: bool = False
    duplicate_rate: float = 0.0
    user_agent: str = "VZaps-Webhooks/1.0 (vzaps-async simulator)"
    local_only: bool = True
    _ids: _IdGenerator = attrs.field(factory=_IdGenerator, init=False)
    _log_ids: int = attrs.field(default=0, init=False)
    _retained: dict[str, deque[dict[str, Any]]] = attrs.field(factory=dict, init=False)
    _acked: dict[str, set[str]] = attrs.field(factory=dict, init=False)
    _logs: dict[str, OrderedDict[str, DeliveryLog]] = attrs.field(factory=dict, init=False)
    _subscribers: dict[str, set[_Subscriber]] = attrs.field(factory=dict, init=False)
    _tasks: set[asyncio.Task[None]] = attrs.field(factory=set, init=False)
    _session: aiohttp.ClientSession | None = attrs.field(default=None, init=False)
    _closed: bool = attrs.field(default=False, init=False)

    # ------------------------------------------------------------ publishing

    def publish(
        self,
        instance: SimInstance,
        event_type: str,
        event: dict[str, Any],
        *,
        data_extra: dict[str, Any] | None = None,
    ) -> None:
        """Publish an event of an instance (the `SimState.publish` hook).

        Args:
            instance: The instance.
            event_type: Event type name.
            event: The inner ``event`` object.
            data_extra: Fields beside ``event`` in ``data`` (e.g. a receipt's ``state``).
        """
        self.emit(instance, event_type, event, data_extra=data_extra)

    async def inject(
        self,
        instance_id: str,
        event_type: str,
        event: dict[str, Any],
        media_url: str | None = None,
    ) -> dict[str, Any]:
        """Inject an event (an incoming message, a receipt, an unknown type, ...); returns its
        envelope.

        Args:
            instance_id: The instance id.
            event_type: Event type name; any string, unknown types included.
            event: The inner ``event`` object.
            media_url: ``data.media_url``, for incoming media.
        """
        instance = self.state.get_instance(instance_id)
        return self.emit(instance, event_type, event, media_url=media_url)

    def emit(
        self,
        instance: SimInstance,
        event_type: str,
        event: dict[str, Any],
        *,
        media_url: str | None = None,
        data_extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build the envelope, retain it and hand it to the webhook and realtime subscribers.

        Args:
            instance: The instance.
            event_type: Event type name.
            event: The inner ``event`` object.
            media_url: ``data.media_url``.
            data_extra: Fields beside ``event`` in ``data``.
        """
        now = self.state.clock()
        data: dict[str, Any] = {"type": event_type, "event": event, **(data_extra or {})}
        if media_url:
            data["media_url"] = media_url
        envelope = {
            "id": self._ids.next(now),
            "type": event_type,
            "instance_id": instance.id,
            "created_at": iso_ms(now),
            "data": data,
        }
        retained = self._retained.setdefault(instance.id, deque(maxlen=max(1, self.retention)))
        retained.append(envelope)
        for subscriber in self._subscribers.get(instance.id, ()):
            if _wanted(subscriber.filter_names, event_type):
                subscriber.queue.put_nowait(envelope)
        if instance.webhook_url and _wanted(_subscription_filter(instance), event_type):
            self._start_delivery(instance, envelope, duplicate=False)
            if self.deliver_twice or (
                self.duplicate_rate > 0 and random.random() < self.duplicate_rate
            ):
                self._start_delivery(instance, envelope, duplicate=True)
        return envelope

    def events_of(self, instance_id: str) -> list[dict[str, Any]]:
        """The retained envelopes of an instance, oldest first.

        Args:
            instance_id: The instance id.
        """
        return list(self._retained.get(instance_id, ()))

    # -------------------------------------------------------------- webhooks

    def _start_delivery(
        self, instance: SimInstance, envelope: dict[str, Any], *, duplicate: bool
    ) -> None:
        if self._closed:
            return
        self._log_ids += 1
        log = DeliveryLog(
            id=f"log_{self._log_ids:06d}{secrets.token_hex(3)}",
            instance_id=instance.id,
            event_id=envelope["id"],
            event_type=envelope["type"],
            url=instance.webhook_url,
            payload=envelope,
            created_at=self.state.clock(),
            duplicate=duplicate,
        )
        logs = self._logs.setdefault(instance.id, OrderedDict())
        logs[log.id] = log
        while len(logs) > max(1, self.log_retention):
            logs.popitem(last=False)
        self._spawn(self._deliver(log))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until every webhook delivery started so far (retries included) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def logs_of(self, instance_id: str) -> list[DeliveryLog]:
        """The delivery logs of an instance, oldest first.

        Args:
            instance_id: The instance id.
        """
        return list(self._logs.get(instance_id, {}).values())

    def get_log(self, instance_id: str, log_id: str) -> DeliveryLog:
        """One delivery log, or a 404 `SimError`.

        Args:
            instance_id: The instance id.
            log_id: The log id.
        """
        logs: dict[str, DeliveryLog] = self._logs.get(instance_id, {})
        log = logs.get(log_id)
        if log is None:
            raise SimError(404, "LOG_NOT_FOUND", f"webhook log {log_id} not found")
        return log

    async def _deliver(self, log: DeliveryLog) -> None:
        if self.local_only and not _is_loopback(log.url):
            await self.attempt(log)  # records the refusal; retrying cannot change it
            return
        for index, delay in enumerate(self.retry_delays or (0.0,)):
            if delay > 0:
                log.next_attempt_at = self.state.clock() + delay
                await asyncio.sleep(delay)
            log.next_attempt_at = None
            if await self.attempt(log):
                return
            if index + 1 < len(self.retry_delays):
                log.status = "pending"
        log.status = "failed"

    async def attempt(self, log: DeliveryLog) -> bool:
        """POST a log's payload once and record the outcome; True on a 2xx answer.

        Args:
            log: The delivery log.
        """
        log.attempts += 1
        log.last_attempt_at = self.state.clock()
        headers = {
            "Content-Type": "application/json",
            "X-Instance-ID": log.instance_id,
            "User-Agent": self.user_agent,
        }
        body = json.dumps(log.payload, separators=(",", ":"))
        if self.local_only and not _is_loopback(log.url):
            log.response_status = None
            log.response_body = None
            log.error = "delivery to a non-loopback host is disabled (EventBus.local_only)"
            log.status = "failed"
            return False
        try:
            session = self._client()
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with session.post(log.url, data=body, headers=headers, timeout=timeout) as resp:
                log.response_status = resp.status
                log.response_body = (await resp.text(errors="replace"))[:1000]
                success = 200 <= resp.status < 300
                log.error = None if success else f"receiver answered HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.response_status = None
            log.response_body = None
            log.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            success = False
        log.status = "success" if success else "failed"
        return success

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    # -------------------------------------------------------------- realtime

    def _replay(
        self, instance_id: str, cursor: str | None, filter_names: frozenset[str] | None
    ) -> list[dict[str, Any]]:
        retained = list(self._retained.get(instance_id, ()))
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
        return [env for env in chosen if _wanted(filter_names, env["type"])]

    def _ack(self, instance_id: str, event_id: str) -> None:
        acked = self._acked.setdefault(instance_id, set())
        acked.add(event_id)
        # Forget acks of events that are no longer retained, so the set stays bounded.
        if len(acked) > 2 * max(1, self.retention):
            retained = {env["id"] for env in self._retained.get(instance_id, ())}
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

    async def serve_realtime(self, request: web.Request) -> web.StreamResponse:
        """The ``GET /events/ws`` handler.

        Args:
            request: The upgrade request.
        """
        instance_id = request.query.get("instance_id", "")
        if not instance_id:
            raise SimError(400, "VALIDATION_ERROR", "instance_id query parameter is required")
        instance = await authorize_instance(
            _with_query_credentials(request), self.state, instance_id
        )
        filter_names = _requested_filter(request) or _subscription_filter(instance)
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
            if self.state.config.strict:
                # Strict: only the documented key acks; the event stays unacked (redelivered).
                return
            if log is not None:
                log.record([deviation])
        for key in _ACK_KEYS:
            if isinstance(frame.get(key), str):
                self._ack(instance_id, frame[key])
                return

    # ------------------------------------------------------------- lifecycle

    async def close_connections(self) -> None:
        """Close every realtime connection (with a going-away close frame)."""
        for subscribers in list(self._subscribers.values()):
            for subscriber in list(subscribers):
                await subscriber.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    async def aclose(self) -> None:
        """Stop deliveries, close connections and the delivery HTTP session."""
        self._closed = True
        await self.close_connections()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def _is_loopback(url: str) -> bool:
    host = (URL(url).host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


#: Where the app keeps its `EventBus`.
BUS_KEY: web.AppKey[EventBus] = web.AppKey("vzaps_sim_events", EventBus)


def get_bus(state: SimState) -> EventBus:
    """The `EventBus` installed on a state by `setup`.

    Args:
        state: The simulator state.
    """
    if not isinstance(state.events, EventBus):
        raise RuntimeError("the simulator's event module is not set up on this state")
    return state.events


# ------------------------------------------------------------------ route handlers


def _event_names(value: Any) -> list[str]:
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = [v.strip() for v in value if v.strip()]
    else:
        raise SimError(400, "VALIDATION_ERROR", "events: must be a comma string or an array")
    invalid = [n for n in names if n not in EVENT_NAMES]
    if invalid:
        raise SimError(
            400,
            "INVALID_EVENT",
            f"invalid event name(s): {', '.join(invalid)}; valid names: "
            + ", ".join(sorted(EVENT_NAMES)),
        )
    return list(dict.fromkeys(names))


async def _get_webhook(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    return ok({"webhook": instance.webhook_url, "subscribe": list(instance.events_subscribe)})


async def _set_webhook(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    body = await read_json(request)
    reads = state.config.webhook_reads
    if reads != "any":
        # A server that reads one form only: the other fields are never looked at.
        body = {k: v for k, v in body.items() if k in (reads, "events")}
        if reads == "webhookURL" and not isinstance(body.get("events"), str | None):
            body.pop("events")
    url: Any = None
    for key in ("webhookURL", "webhook_url", "webhookUrl", "url"):
        if key in body:
            url = body[key]
            break
    if body.get("enabled") is False:
        url = ""
    if url is None and "events" not in body:
        if reads != "any":
            # Nothing this server reads was sent: it answers as if nothing changed.
            return ok({"webhook": instance.webhook_url, "events": instance.events_subscribe_text})
        raise SimError(400, "VALIDATION_ERROR", "webhookURL is required")
    if url is not None:
        if not isinstance(url, str):
            raise SimError(400, "VALIDATION_ERROR", "webhookURL: must be a string")
        if url and not url.startswith(("http://", "https://")):
            raise SimError(400, "VALIDATION_ERROR", "webhookURL: must be an http(s) URL")
    events = None if body.get("events") is None else _event_names(body["events"])
    if url is not None:
        instance.webhook_url = url
    if events is not None:
        instance.events_subscribe = events
    instance.updated_at = state.clock()
    return ok({"webhook": instance.webhook_url, "events": instance.events_subscribe_text})


def _positive_int(body: dict[str, Any], key: str, default: int, maximum: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SimError(400, "VALIDATION_ERROR", f"{key}: must be a positive integer")
    return min(value, maximum)


async def _search_logs(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    body = await read_json(request, required=False)
    nested = body.get("filter")
    filters: dict[str, Any] = nested if isinstance(nested, dict) else body
    page = _positive_int(body, "page", 1, 1_000_000)
    size = _positive_int(body, "size", 20, 100)
    logs = list(reversed(get_bus(state).logs_of(instance.id)))
    for key in ("status", "event_type", "event_id"):
        wanted = filters.get(key)
        if wanted:
            logs = [log for log in logs if getattr(log, key) == wanted]
    total = len(logs)
    content = [log.to_wire() for log in logs[(page - 1) * size : page * size]]
    return ok(
        {
            "content": content,
            "page": page,
            "size": size,
            "total": total,
            "total_pages": math.ceil(total / size) if total else 0,
        }
    )


async def _get_log(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    return ok(get_bus(state).get_log(instance.id, request.match_info["log_id"]).to_wire())


async def _retry_log(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    bus = get_bus(state)
    log = bus.get_log(instance.id, request.match_info["log_id"])
    await bus.attempt(log)
    return ok({**log.to_wire(), "retried": True})


async def _serve_realtime(request: web.Request) -> web.StreamResponse:
    return await get_bus(get_state(request)).serve_realtime(request)


async def _control_inject(request: web.Request) -> web.Response:
    state = get_state(request)
    body = await read_json(request)
    event_type = body.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise SimError(400, "VALIDATION_ERROR", "type: an event type name is required")
    event = body.get("event", {})
    if not isinstance(event, dict):
        raise SimError(400, "VALIDATION_ERROR", "event: must be an object")
    media_url = body.get("media_url")
    envelope = await get_bus(state).inject(
        request.match_info["id"],
        event_type,
        event,
        media_url=media_url if isinstance(media_url, str) else None,
    )
    return flat(envelope, status=201)


async def _control_drop(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = state.get_instance(request.match_info["id"])
    dropped = await get_bus(state).drop_connections(instance.id)
    return flat({"dropped": dropped})


async def _control_config(request: web.Request) -> web.Response:
    bus = get_bus(get_state(request))
    body = await read_json(request, required=False)
    try:
        if "retry_delays" in body:
            bus.retry_delays = tuple(float(d) for d in body["retry_delays"])
        if "timeout" in body:
            bus.timeout = float(body["timeout"])
        if "deliver_twice" in body:
            bus.deliver_twice = bool(body["deliver_twice"])
        if "duplicate_rate" in body:
            bus.duplicate_rate = float(body["duplicate_rate"])
        if "local_only" in body:
            bus.local_only = bool(body["local_only"])
    except (TypeError, ValueError) as exc:
        raise SimError(400, "VALIDATION_ERROR", f"invalid setting: {exc}") from None
    return flat(
        {
            "retry_delays": list(bus.retry_delays),
            "timeout": bus.timeout,
            "deliver_twice": bus.deliver_twice,
            "duplicate_rate": bus.duplicate_rate,
            "local_only": bus.local_only,
        }
    )


def setup(app: web.Application, state: SimState) -> EventBus:
    """Install the event bus on ``state`` and add the webhook, realtime and control routes.

    Args:
        app: The simulator application.
        state: The simulator state.
    """
    bus = EventBus(state)
    state.events = bus
    app[BUS_KEY] = bus
    router = app.router
    router.add_get("/instances/{id}/webhook", _get_webhook)
    router.add_post("/instances/{id}/webhook", _set_webhook)
    router.add_post("/instances/{id}/webhook/logs/search", _search_logs)
    router.add_get("/instances/{id}/webhook/logs/{log_id}", _get_log)
    router.add_post("/instances/{id}/webhook/logs/{log_id}/retry", _retry_log)
    router.add_get("/events/ws", _serve_realtime)
    router.add_post("/__sim/instances/{id}/events", _control_inject)
    router.add_post("/__sim/instances/{id}/drop-realtime", _control_drop)
    router.add_post("/__sim/events/config", _control_config)

    async def close_sockets(_: web.Application) -> None:
        await bus.close_connections()

    async def close_bus(_: web.Application) -> None:
        await bus.aclose()

    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(close_bus)
    return bus
