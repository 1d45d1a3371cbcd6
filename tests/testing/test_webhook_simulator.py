"""Simulator webhooks: configuration routes, deliveries to a real receiver, retries and logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from vzaps_async.models.events import BaseEvent, Message, UnknownEvent
from vzaps_async.testing import Simulator
from vzaps_async.testing._events import EventBus, get_bus
from vzaps_async.testing._model import SimInstance
from vzaps_async.webhooks import Router, webhook_app

INCOMING = {
    "info": {"id": "M1", "chat": "5511988887777@s.whatsapp.net", "push_name": "Ana"},
    "message": {"conversation": "hello bot"},
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        get_bus(simulator.state).retry_delays = (0.0, 0.01, 0.01)
        yield simulator


@pytest.fixture
def instance(sim: Simulator) -> SimInstance:
    return sim.state.registry.create(sim.account, "bot")


@pytest.fixture
async def http(sim: Simulator, instance: SimInstance) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"X-Instance-Token": instance.token, "X-Client-Token": sim.client_token}
    async with aiohttp.ClientSession(base_url=sim.base_url, headers=headers) as session:
        yield session


class _Receiver:
    """A webhook receiver served on 127.0.0.1 that records the events it handles."""

    def __init__(self, *, secret: str | None = None) -> None:
        self.router = Router()
        self.events: asyncio.Queue[BaseEvent] = asyncio.Queue()
        self.server = TestServer(webhook_app(self.router, secret=secret), host="127.0.0.1")

        @self.router.on()
        async def record(event: BaseEvent) -> None:
            await self.events.put(event)

    async def next(self) -> BaseEvent:
        return await asyncio.wait_for(self.events.get(), 5)


@pytest.fixture
async def receiver() -> AsyncIterator[_Receiver]:
    rec = _Receiver()
    await rec.server.start_server()
    yield rec
    await rec.server.close()


async def _wait_for_logs(bus: EventBus, instance_id: str, count: int, status: str) -> None:
    await asyncio.wait_for(bus.settle(), 5)
    assert sum(log.status == status for log in bus.logs_of(instance_id)) == count


@pytest.mark.parametrize("url_key", ["webhookURL", "webhook_url", "url"])
@pytest.mark.parametrize("events", ["Message,ReadReceipt", ["Message", "ReadReceipt"]])
async def test_set_webhook_accepts_every_spelling(
    sim: Simulator, http: aiohttp.ClientSession, instance: SimInstance, url_key: str, events: Any
) -> None:
    """POST webhook accepts each URL key and events as a string or array; GET shows them."""
    sim.state.config = attrs.evolve(sim.state.config, strict=False)
    body = {url_key: "https://bot.example.com/hook", "events": events}
    async with http.post(f"/instances/{instance.id}/webhook", json=body) as resp:
        assert resp.status == 200
        assert (await resp.json())["data"] == {
            "webhook": "https://bot.example.com/hook",
            "events": "Message,ReadReceipt",
        }
    async with http.get(f"/instances/{instance.id}/webhook") as resp:
        assert (await resp.json())["data"] == {
            "webhook": "https://bot.example.com/hook",
            "subscribe": ["Message", "ReadReceipt"],
        }


async def test_omitting_events_keeps_them(
    http: aiohttp.ClientSession, instance: SimInstance
) -> None:
    """Changing only the URL leaves the subscribed events as they were."""
    instance.events_subscribe = ["Connected"]
    body = {"webhookURL": "https://new.example.com/h"}
    async with http.post(f"/instances/{instance.id}/webhook", json=body) as resp:
        assert (await resp.json())["data"] == {
            "webhook": "https://new.example.com/h",
            "events": "Connected",
        }


@pytest.mark.parametrize("bad", ["Receipt", "MessageDelivered", "MessageRead", "message"])
async def test_invalid_event_names_are_refused(
    http: aiohttp.ClientSession, instance: SimInstance, bad: str
) -> None:
    """Undocumented or wrongly cased event names answer 400 INVALID_EVENT and change nothing."""
    body = {"webhookURL": "https://x.example.com", "events": f"Message,{bad}"}
    async with http.post(f"/instances/{instance.id}/webhook", json=body) as resp:
        assert resp.status == 400
        payload = await resp.json()
        assert payload["error_code"] == "INVALID_EVENT"
        assert bad in payload["message"]
    assert instance.webhook_url == ""


async def test_webhook_routes_require_credentials(sim: Simulator, instance: SimInstance) -> None:
    """The webhook routes refuse requests without credentials."""
    async with (
        aiohttp.ClientSession(base_url=sim.base_url) as anonymous,
        anonymous.get(f"/instances/{instance.id}/webhook") as resp,
    ):
        assert resp.status == 401


async def test_injected_events_reach_handlers_through_the_receiver(
    sim: Simulator, instance: SimInstance, http: aiohttp.ClientSession, receiver: _Receiver
) -> None:
    """Injected events (a message and an unknown type) are POSTed to the receiver and handled."""
    url = str(receiver.server.make_url("/webhook"))
    async with http.post(
        f"/instances/{instance.id}/webhook", json={"webhookURL": url, "events": "All"}
    ) as resp:
        assert resp.status == 200
    async with http.post(
        f"/__sim/instances/{instance.id}/events", json={"type": "Message", "event": INCOMING}
    ) as resp:
        assert resp.status == 201
        envelope = await resp.json()
    message = await receiver.next()
    assert isinstance(message, Message)
    assert (message.id, message.instance_id, message.text) == (
        envelope["id"],
        instance.id,
        "hello bot",
    )
    await get_bus(sim.state).inject(instance.id, "BrandNewThing", {"x": 1})
    unknown = await receiver.next()
    assert isinstance(unknown, UnknownEvent)
    assert unknown.type == "BrandNewThing"
    assert unknown.event == {"x": 1}


async def test_subscription_filters_deliveries(
    sim: Simulator, instance: SimInstance, receiver: _Receiver
) -> None:
    """Only subscribed event types are delivered to the webhook."""
    instance.webhook_url = str(receiver.server.make_url("/webhook"))
    instance.events_subscribe = ["Message"]
    bus = get_bus(sim.state)
    await bus.inject(instance.id, "Presence", {"from": "x"})
    await bus.inject(instance.id, "Message", INCOMING)
    assert (await receiver.next()).type == "Message"
    await _wait_for_logs(bus, instance.id, 1, "success")
    assert [log.event_type for log in bus.logs_of(instance.id)] == ["Message"]


async def test_duplicate_deliveries_are_handled_once(
    sim: Simulator, instance: SimInstance, receiver: _Receiver
) -> None:
    """With deliver_twice each event is POSTed twice but the router handles it once."""
    instance.webhook_url = str(receiver.server.make_url("/webhook"))
    bus = get_bus(sim.state)
    bus.deliver_twice = True
    first = await bus.inject(instance.id, "Message", INCOMING)
    second = await bus.inject(instance.id, "Message", INCOMING)
    await _wait_for_logs(bus, instance.id, 4, "success")
    handled = [(await receiver.next()).id, (await receiver.next()).id]
    assert sorted(handled) == sorted([first["id"], second["id"]])
    assert receiver.events.empty()
    assert sum(log.duplicate for log in bus.logs_of(instance.id)) == 2


async def test_failed_delivery_is_retried_logged_and_retryable(
    sim: Simulator, instance: SimInstance, http: aiohttp.ClientSession
) -> None:
    """A receiver answering 500 gets every scheduled attempt, the log says failed, and a manual
    retry after the receiver recovers succeeds."""
    answers = [500, 500, 500, 200]
    bodies: list[dict[str, Any]] = []
    headers_seen: list[str | None] = []

    async def flaky(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        headers_seen.append(request.headers.get("X-Instance-ID"))
        return web.Response(status=answers.pop(0))

    app = web.Application()
    app.router.add_post("/hook", flaky)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        instance.webhook_url = str(server.make_url("/hook"))
        bus = get_bus(sim.state)
        envelope = await bus.inject(instance.id, "Message", INCOMING)
        await _wait_for_logs(bus, instance.id, 1, "failed")
        [log] = bus.logs_of(instance.id)
        assert log.attempts == 3
        assert log.response_status == 500

        async with http.post(
            f"/instances/{instance.id}/webhook/logs/search", json={"status": "failed"}
        ) as resp:
            page = (await resp.json())["data"]
        assert page["total"] == 1
        assert page["content"][0]["id"] == log.id
        assert page["content"][0]["payload"] == envelope

        async with http.post(f"/instances/{instance.id}/webhook/logs/{log.id}/retry") as resp:
            retried = (await resp.json())["data"]
        assert (retried["status"], retried["attempts"], retried["retried"]) == ("success", 4, True)

        async with http.get(f"/instances/{instance.id}/webhook/logs/{log.id}") as resp:
            assert (await resp.json())["data"]["status"] == "success"
        async with http.get(f"/instances/{instance.id}/webhook/logs/log_missing") as resp:
            assert resp.status == 404
    finally:
        await server.close()
    assert all(body == envelope for body in bodies)
    assert headers_seen == [instance.id] * 4


async def test_log_search_paginates(
    sim: Simulator, instance: SimInstance, http: aiohttp.ClientSession, receiver: _Receiver
) -> None:
    """Log search pages newest first with page/size and totals."""
    instance.webhook_url = str(receiver.server.make_url("/webhook"))
    bus = get_bus(sim.state)
    for n in range(5):
        await bus.inject(instance.id, "Presence", {"n": n})
    await _wait_for_logs(bus, instance.id, 5, "success")
    async with http.post(
        f"/instances/{instance.id}/webhook/logs/search", json={"page": 2, "size": 2}
    ) as resp:
        page = (await resp.json())["data"]
    assert (page["page"], page["size"], page["total"], page["total_pages"]) == (2, 2, 5, 3)
    assert [log["payload"]["data"]["event"]["n"] for log in page["content"]] == [2, 1]


async def test_connected_event_from_the_core_is_delivered(
    sim: Simulator, instance: SimInstance, receiver: _Receiver
) -> None:
    """An event the simulator core publishes (pairing completes) reaches the webhook."""
    instance.webhook_url = str(receiver.server.make_url("/webhook"))
    sim.state.pairing.start(instance)
    await sim.scan(instance.id)
    event = await receiver.next()
    assert event.type == "Connected"
    assert event.instance_id == instance.id


async def test_non_loopback_urls_are_not_contacted_by_default(
    sim: Simulator, instance: SimInstance
) -> None:
    """A webhook URL outside 127.0.0.1 gets one failed log and no network traffic."""
    instance.webhook_url = "https://hooks.example.com/vzaps"
    bus = get_bus(sim.state)
    await bus.inject(instance.id, "Message", INCOMING)
    await _wait_for_logs(bus, instance.id, 1, "failed")
    [log] = bus.logs_of(instance.id)
    assert log.attempts == 1
    assert log.error is not None
    assert "local_only" in log.error
