"""Route typed events to async handlers: filters, ordered dispatch, error isolation, dedupe."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

import attrs

from vzaps_async.models.events import BaseEvent, Event, Message, parse_event

__all__ = ["ALL_EVENTS", "EventSource", "Handler", "Router"]

logger = logging.getLogger("vzaps_async.webhooks")

#: The event-type pattern that matches every event.
ALL_EVENTS = "*"

#: An async event handler. Its return value is ignored.
Handler = Callable[[Any], Awaitable[object]]
H = TypeVar("H", bound=Handler)


class EventSource(Protocol):
    """What `Router.run_stream` consumes: an async iterator of events that can ack them."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def ack(self, event: BaseEvent) -> None:
        """Acknowledge a handled event."""


def _names(value: str | Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


def _event_chat(event: BaseEvent) -> str | None:
    if isinstance(event, Message):
        return event.info.chat
    chat = event.event.get("chat")
    return chat if isinstance(chat, str) else None


def _chat_matches(chat: str | None, wanted: frozenset[str]) -> bool:
    # A filter may name a full JID or just the phone number / group id in front of the "@".
    if chat is None:
        return False
    return chat in wanted or chat.split("@", 1)[0] in wanted


@attrs.frozen
class _Registration:
    handler: Handler
    types: frozenset[str] | None
    classes: tuple[type[BaseEvent], ...]
    instances: frozenset[str] | None
    chats: frozenset[str] | None
    where: Callable[[Any], bool] | None

    def matches(self, event: BaseEvent) -> bool:
        if self.types is not None or self.classes:
            by_name = self.types is not None and event.type in self.types
            if not by_name and not isinstance(event, self.classes):
                return False
        if self.instances is not None and event.instance_id not in self.instances:
            return False
        if self.chats is not None and not _chat_matches(_event_chat(event), self.chats):
            return False
        return self.where is None or bool(self.where(event))


def _handler_name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


@attrs.define(eq=False)
class Router:
    """Registers async handlers by event type and dispatches events to them.

    Handlers of one event run one after the other in registration order. A handler (or its
    ``where`` predicate) that raises is logged on the ``vzaps_async.webhooks`` logger and the
    remaining handlers still run. Deliveries are at-least-once, so events are deduplicated by id
    over a bounded window of recent ids.

    Example::

        router = Router()

        @router.on("Message", chat="5511999999999")
        async def greet(event: Message) -> None:
            print(event.text)

    Args:
        dedupe_window: How many recent event ids are remembered for deduplication (0 disables it).
    """

    dedupe_window: int = 10_000
    _registrations: list[_Registration] = attrs.field(factory=list, init=False)
    _seen: OrderedDict[str, None] = attrs.field(factory=OrderedDict, init=False)

    def on(
        self,
        *event_types: str | type[BaseEvent],
        instance: str | Iterable[str] | None = None,
        chat: str | Iterable[str] | None = None,
        where: Callable[[Any], bool] | None = None,
    ) -> Callable[[H], H]:
        """Register the decorated async function for events of the given types.

        Args:
            *event_types: Type names (``"Message"``, ``"qr"``, ...), event classes (``Message``,
                ``UnknownEvent``) or ``"*"`` for every event. None given means every event.
            instance: Only events of this instance id (or of any of these ids).
            chat: Only events of this chat: a JID, or a phone number / group id matching the JID's
                part before ``@``. Applies to `Message` and to events whose ``event`` has ``chat``.
            where: An extra predicate on the event. One that raises is logged like a failing
                handler and that handler is skipped for the event.
        """

        def register(handler: H) -> H:
            self.add(handler, *event_types, instance=instance, chat=chat, where=where)
            return handler

        return register

    def add(
        self,
        handler: Handler,
        *event_types: str | type[BaseEvent],
        instance: str | Iterable[str] | None = None,
        chat: str | Iterable[str] | None = None,
        where: Callable[[Any], bool] | None = None,
    ) -> None:
        """Register ``handler`` (the non-decorator form of `on`).

        Args:
            handler: The async handler; it receives the event.
            *event_types: As for `on`.
            instance: As for `on`.
            chat: As for `on`.
            where: As for `on`.
        """
        names = frozenset(t for t in event_types if isinstance(t, str))
        classes = tuple(t for t in event_types if not isinstance(t, str))
        every = not event_types or ALL_EVENTS in names
        self._registrations.append(
            _Registration(
                handler=handler,
                types=None if every else names,
                classes=() if every else classes,
                instances=_names(instance),
                chats=_names(chat),
                where=where,
            )
        )

    def is_duplicate(self, event: BaseEvent) -> bool:
        """Tell whether ``event`` was already dispatched (within the dedupe window).

        Args:
            event: The event.
        """
        key = event.dedup_key
        return key is not None and key in self._seen

    def _remember(self, event: BaseEvent) -> bool:
        key = event.dedup_key
        if key is None or self.dedupe_window <= 0:
            return True
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > self.dedupe_window:
            self._seen.popitem(last=False)
        return True

    async def dispatch(self, event: BaseEvent | Mapping[str, Any]) -> bool:
        """Run the matching handlers for one event, in registration order.

        Args:
            event: A parsed event, or a raw payload (parsed with `parse_event`).

        Returns:
            False when the event was a duplicate and no handler ran, True otherwise.
        """
        parsed = event if isinstance(event, BaseEvent) else parse_event(event)
        # Marked as seen before the handlers run, so a second delivery arriving while the first
        # is still being handled is dropped too.
        if not self._remember(parsed):
            logger.debug("duplicate event %s (%s) skipped", parsed.dedup_key, parsed.type)
            return False
        for registration in list(self._registrations):
            try:
                matched = registration.matches(parsed)
            except Exception:
                # A ``where`` predicate is user code like the handler it guards: a bug in it
                # must cost only that registration, not the event's other handlers or the stream.
                logger.exception(
                    "event filter of handler %s failed on %s event %s",
                    _handler_name(registration.handler),
                    parsed.type,
                    parsed.id,
                )
                continue
            if not matched:
                continue
            try:
                await registration.handler(parsed)
            except Exception:
                logger.exception(
                    "event handler %s failed on %s event %s",
                    _handler_name(registration.handler),
                    parsed.type,
                    parsed.id,
                )
        return True

    async def run_stream(self, stream: EventSource) -> None:
        """Dispatch every event of ``stream`` (e.g. a `RealtimeStream`), acking each one after.

        Returns when the stream ends; cancel the task to stop earlier.

        Args:
            stream: The event source, already entered (``async with stream``).
        """
        async for event in stream:
            await self.dispatch(event)
            await stream.ack(event)
