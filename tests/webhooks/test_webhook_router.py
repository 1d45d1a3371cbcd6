"""The event Router: type and filter matching, ordering, error isolation, dedupe, streams."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from vzaps_async.models.events import BaseEvent, Event, Message, UnknownEvent, parse_event
from vzaps_async.webhooks import Router


def _message(
    event_id: str, chat: str | None = "5511999999999@s.whatsapp.net", **info: Any
) -> Event:
    return parse_event(
        {
            "id": event_id,
            "type": "Message",
            "instance_id": info.pop("instance_id", "VZA"),
            "data": {
                "type": "Message",
                "event": {"info": {"chat": chat, **info}, "message": {"conversation": "hi"}},
            },
        }
    )


async def test_handlers_run_in_registration_order_for_their_types() -> None:
    """Matching handlers run in the order they were registered; others do not run."""
    router = Router()
    calls: list[str] = []

    @router.on("Message")
    async def first(event: Message) -> None:
        calls.append("first")

    @router.on("Connected")
    async def other(event: BaseEvent) -> None:
        calls.append("other")

    @router.on("*")
    async def every(event: BaseEvent) -> None:
        calls.append("every")

    @router.on(Message)
    async def by_class(event: Message) -> None:
        calls.append("by_class")

    assert await router.dispatch(_message("evt_1")) is True
    assert calls == ["first", "every", "by_class"]


async def test_instance_chat_and_where_filters() -> None:
    """Instance, chat (JID or bare number) and predicate filters select handlers."""
    router = Router()
    seen: list[str] = []

    @router.on("Message", instance="VZB")
    async def only_b(event: Message) -> None:
        seen.append("b:" + str(event.id))

    @router.on("Message", chat="5511999999999")
    async def by_number(event: Message) -> None:
        seen.append("chat:" + str(event.id))

    @router.on("Message", where=lambda e: e.is_from_me)
    async def mine(event: Message) -> None:
        seen.append("mine:" + str(event.id))

    await router.dispatch(_message("evt_1"))
    await router.dispatch(_message("evt_2", instance_id="VZB", chat="other@s.whatsapp.net"))
    await router.dispatch(_message("evt_3", chat="x@g.us", is_from_me=True))
    assert seen == ["chat:evt_1", "b:evt_2", "mine:evt_3"]


async def test_failing_handler_is_logged_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A handler that raises is logged on the vzaps_async logger and the next handler runs."""
    router = Router()
    ran: list[str] = []

    @router.on("Message")
    async def broken(event: Message) -> None:
        raise RuntimeError("boom")

    @router.on("Message")
    async def fine(event: Message) -> None:
        ran.append("fine")

    with caplog.at_level(logging.ERROR, logger="vzaps_async"):
        assert await router.dispatch(_message("evt_1")) is True
    assert ran == ["fine"]
    assert any("broken" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_raising_where_predicate_is_logged_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ``where`` predicate that raises is logged with its handler's name, that handler is
    skipped and the event's other handlers still run."""
    router = Router()
    ran: list[str] = []

    @router.on("Message", where=lambda e: e.chat.startswith("55"))
    async def by_prefix(event: Message) -> None:
        ran.append("by_prefix")

    @router.on("Message")
    async def fine(event: Message) -> None:
        ran.append("fine")

    with caplog.at_level(logging.ERROR, logger="vzaps_async"):
        assert await router.dispatch(_message("evt_1", chat=None)) is True
    assert ran == ["fine"]
    assert any("by_prefix" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_duplicates_are_dropped_within_the_window() -> None:
    """The same event id dispatches once; ids that fell out of the window dispatch again."""
    router = Router(dedupe_window=2)
    handled: list[str | None] = []

    @router.on()
    async def record(event: BaseEvent) -> None:
        handled.append(event.id)

    assert await router.dispatch(_message("evt_1")) is True
    assert await router.dispatch(_message("evt_1")) is False
    await router.dispatch(_message("evt_2"))
    await router.dispatch(_message("evt_3"))
    assert await router.dispatch(_message("evt_1")) is True
    assert handled == ["evt_1", "evt_2", "evt_3", "evt_1"]


async def test_bare_deliveries_of_one_whatsapp_message_to_two_instances_both_dispatch() -> None:
    """Bare ``data`` deliveries with one WhatsApp message id dispatch once per instance, not once
    in all."""
    router = Router()
    handled: list[tuple[str | None, bool]] = []

    @router.on("Message")
    async def record(event: Message) -> None:
        handled.append((event.instance_id, event.is_from_me))

    def bare(instance: str, from_me: bool) -> Event:
        info = {"id": "3EB0C0FFEE", "chat": "5511@s.whatsapp.net", "is_from_me": from_me}
        return parse_event({"type": "Message", "event": {"info": info}}, instance_id=instance)

    assert await router.dispatch(bare("VZSENDER", True)) is True
    assert await router.dispatch(bare("VZRECIPIENT", False)) is True
    assert await router.dispatch(bare("VZRECIPIENT", False)) is False
    assert handled == [("VZSENDER", True), ("VZRECIPIENT", False)]


async def test_unknown_events_reach_unknown_handlers() -> None:
    """An unknown type reaches handlers registered by its name or by UnknownEvent."""
    router = Router()
    got: list[str] = []

    @router.on(UnknownEvent)
    async def unknown(event: UnknownEvent) -> None:
        got.append("class:" + event.type)

    @router.on("qr")
    async def by_name(event: UnknownEvent) -> None:
        got.append("name:" + str(event.event["code"]))

    await router.dispatch({"id": "evt_9", "type": "qr", "data": {"event": {"code": "2@x"}}})
    assert got == ["class:qr", "name:2@x"]


class _FakeStream:
    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.acked: list[str | None] = []

    async def _iterate(self) -> AsyncIterator[Event]:
        for event in self.events:
            yield event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def ack(self, event: BaseEvent) -> None:
        self.acked.append(event.id)


async def test_run_stream_dispatches_and_acks_each_event() -> None:
    """run_stream dispatches every event of a stream and acks it after its handlers."""
    router = Router()
    order: list[str] = []
    stream = _FakeStream([_message("evt_1"), _message("evt_2")])

    @router.on("Message")
    async def handle(event: Message) -> None:
        order.append(f"handled {event.id} after acks {list(stream.acked)}")

    await router.run_stream(stream)
    assert order == ["handled evt_1 after acks []", "handled evt_2 after acks ['evt_1']"]
    assert stream.acked == ["evt_1", "evt_2"]


async def test_run_stream_goes_on_and_acks_after_a_raising_where_predicate() -> None:
    """An event whose ``where`` predicate raises is still acked and the stream goes on."""
    router = Router()
    handled: list[str | None] = []
    stream = _FakeStream([_message("evt_1", chat=None), _message("evt_2")])

    @router.on("Message", where=lambda e: e.chat.startswith("55"))
    async def by_prefix(event: Message) -> None:
        handled.append(event.id)

    await router.run_stream(stream)
    assert handled == ["evt_2"]
    assert stream.acked == ["evt_1", "evt_2"]
