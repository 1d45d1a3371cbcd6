"""Simulator events: the event bus that gives every event its envelope and hands it on.

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
- Realtime (``GET /events/ws``, `_realtime_server`): acks may use ``event_id``, ``id`` or
  ``eventId`` (strict: only ``event_id``; lenient records the others at ``GET /__sim/contract``).

Webhook delivery is in `_webhook_delivery`, the realtime server in `_realtime_server`, the routes
(webhook settings and logs, the socket, the control API) in `_event_routes`.
"""

from __future__ import annotations

import secrets
from collections import deque
from typing import Any

import attrs
from aiohttp import web

from ._model import SimInstance
from ._realtime_server import RealtimeServer, subscription_filter, wanted
from ._state import SimState
from ._webhook_delivery import DeliveryLog, WebhookDelivery, iso_ms

__all__ = ["BUS_KEY", "DeliveryLog", "EventBus", "get_bus", "install_bus"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80


def _encode_base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


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
    webhooks: WebhookDelivery = attrs.field(init=False)
    realtime: RealtimeServer = attrs.field(init=False)
    _ids: _IdGenerator = attrs.field(factory=_IdGenerator, init=False)
    _retained: dict[str, deque[dict[str, Any]]] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self.webhooks = WebhookDelivery(self)
        self.realtime = RealtimeServer(self)

    # ------------------------------------------------------------ publishing

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
        instance = self.state.registry.get(instance_id)
        return self.publish(instance, event_type, event, media_url=media_url)

    def publish(
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
        self.realtime.send(instance.id, envelope)
        if instance.webhook_url and wanted(subscription_filter(instance), event_type):
            self.webhooks.start(instance, envelope)
        return envelope

    def events_of(self, instance_id: str) -> list[dict[str, Any]]:
        """The retained envelopes of an instance, oldest first.

        Args:
            instance_id: The instance id.
        """
        return list(self._retained.get(instance_id, ()))

    # ------------------------------------------------- webhooks and realtime

    async def settle(self) -> None:
        """Wait until every webhook delivery started so far (retries included) has finished."""
        await self.webhooks.settle()

    def logs_of(self, instance_id: str) -> list[DeliveryLog]:
        """The webhook delivery logs of an instance, oldest first.

        Args:
            instance_id: The instance id.
        """
        return self.webhooks.logs_of(instance_id)

    def get_log(self, instance_id: str, log_id: str) -> DeliveryLog:
        """One webhook delivery log, or a 404 `SimError`.

        Args:
            instance_id: The instance id.
            log_id: The log id.
        """
        return self.webhooks.get_log(instance_id, log_id)

    def subscriber_count(self, instance_id: str) -> int:
        """How many realtime connections an instance has.

        Args:
            instance_id: The instance id.
        """
        return self.realtime.subscriber_count(instance_id)

    async def drop_connections(self, instance_id: str) -> int:
        """Cut every realtime connection of an instance without a close frame; returns how many.

        Args:
            instance_id: The instance id.
        """
        return await self.realtime.drop_connections(instance_id)

    async def close_connections(self) -> None:
        """Close every realtime connection (with a going-away close frame)."""
        await self.realtime.close_connections()

    async def aclose(self) -> None:
        """Stop deliveries, close connections and the delivery HTTP session."""
        await self.realtime.close_connections()
        await self.webhooks.aclose()


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


def install_bus(app: web.Application, state: SimState) -> EventBus:
    """Install the event bus on ``state`` and close it with the app.

    Args:
        app: The simulator application.
        state: The simulator state.
    """
    bus = EventBus(state)
    state.events = bus
    app[BUS_KEY] = bus

    async def close_sockets(_: web.Application) -> None:
        await bus.close_connections()

    async def close_bus(_: web.Application) -> None:
        await bus.aclose()

    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(close_bus)
    return bus
