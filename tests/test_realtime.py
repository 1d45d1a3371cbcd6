"""RealtimeStream against the simulator and scripted servers: ack, resume, dedupe, reconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import vzaps_async.realtime as realtime_mod
from vzaps_async.errors import AuthenticationError, ConnectError
from vzaps_async.models.events import BaseEvent, Message
from vzaps_async.realtime import RealtimeStream
from vzaps_async.testing import Simulator
from vzaps_async.testing._events import EventBus, get_bus
from vzaps_async.testing._model import SimInstance
from vzaps_async.webhooks import Router


def _message(n: int) -> dict[str, Any]:
    return {"info": {"id": f"M{n}", "chat": "55@s.whatsapp.net"}, "message": {"conversation": n}}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


@pytest.fixture
def instance(sim: Simulator) -> SimInstance:
    return sim.state.registry.create(sim.account, "bot")


@pytest.fixture
def bus(sim: Simulator) -> EventBus:
    return get_bus(sim.state)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _headers(sim: Simulator, instance: SimInstance) -> Callable[[], Awaitable[dict[str, str]]]:
    async def factory() -> dict[str, str]:
        return {"X-Instance-Token": instance.token, "X-Client-Token": sim.client_token}

    return factory


def _stream(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, **options: Any
) -> RealtimeStream:
    options.setdefault("backoff_base", 0.01)
    return RealtimeStream(
        session, sim.realtime_url, instance.id, _headers(sim, instance), **options
    )


async def _next(stream: RealtimeStream) -> BaseEvent:
    return await asyncio.wait_for(anext(stream), 5)


async def test_events_arrive_typed_and_are_acked_after_handling(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, bus: EventBus
) -> None:
    """Injected events arrive in order; each is acked when the next one is asked for."""
    async with _stream(session, sim, instance) as stream:
        first = await bus.inject(instance.id, "Message", _message(1))
        second = await bus.inject(instance.id, "Message", _message(2))
        event = await _next(stream)
        assert isinstance(event, Message)
        assert (event.id, event.instance_id, event.text) == (first["id"], instance.id, None)
        assert event.message == {"conversation": 1}
        assert (await _next(stream)).id == second["id"]
        # Asking for the next event acked the first; the second is acked on leaving the block.
        assert stream.last_event_id == first["id"]
    assert stream.last_event_id == second["id"]


async def test_dropped_connection_resumes_without_loss_or_duplicates(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, bus: EventBus
) -> None:
    """After the server drops the socket the stream reconnects and resumes from its last ack."""
    router = Router()
    handled: list[str | None] = []
    done = asyncio.Event()

    @router.on("Message")
    async def handle(event: Message) -> None:
        handled.append(event.id)
        if len(handled) == 2:
            # Cut the connection mid-stream, then publish while the client is away.
            assert await bus.drop_connections(instance.id) == 1
            for n in (4, 5):
                await bus.inject(instance.id, "Message", _message(n))
        if len(handled) == 5:
            done.set()

    published = [await bus.inject(instance.id, "Message", _message(n)) for n in (1, 2, 3)]
    async with _stream(session, sim, instance) as stream:
        task = asyncio.create_task(router.run_stream(stream))
        await asyncio.wait_for(done.wait(), 5)
        task.cancel()
    ids = [env["id"] for env in published] + [env["id"] for env in bus.events_of(instance.id)[3:]]
    assert handled == ids
    assert stream.connections >= 2


@pytest.mark.parametrize("ack_key", ["event_id", "id", "eventId"])
async def test_every_ack_key_settles_an_event(
    session: aiohttp.ClientSession,
    sim: Simulator,
    instance: SimInstance,
    bus: EventBus,
    ack_key: str,
) -> None:
    """Lenient: an ack with any of the three SDKs' keys stops the event from being redelivered,
    and a key other than event_id is recorded as a deviation."""
    sim.state.config = attrs.evolve(sim.state.config, strict=False)
    url = f"{sim.realtime_url}/events/ws?instance_id={instance.id}"
    headers = await _headers(sim, instance)()
    async with session.ws_connect(url, headers=headers) as ws:
        sent = await bus.inject(instance.id, "Message", _message(1))
        assert (await ws.receive_json(timeout=5))["id"] == sent["id"]
        await ws.send_json({"type": "ack", ack_key: sent["id"]})
    async with session.ws_connect(url, headers=headers) as ws:
        later = await bus.inject(instance.id, "Message", _message(2))
        assert (await ws.receive_json(timeout=5))["id"] == later["id"]
    async with session.get(f"{sim.base_url}/__sim/contract") as resp:
        fields = [d["field"] for d in (await resp.json())["deviations"]]
    assert fields == ([] if ack_key == "event_id" else [ack_key])


async def _delivered(
    session: aiohttp.ClientSession,
    sim: Simulator,
    instance: SimInstance,
    bus: EventBus,
    *,
    ack_key: str | None,
) -> dict[str, Any]:
    """Inject a message, receive it on a new socket and ack it under ``ack_key`` (None: no ack)."""
    url = f"{sim.realtime_url}/events/ws?instance_id={instance.id}"
    async with session.ws_connect(url, headers=await _headers(sim, instance)()) as ws:
        sent = await bus.inject(instance.id, "Message", _message(1))
        assert (await ws.receive_json(timeout=5))["id"] == sent["id"]
        if ack_key is not None:
            await ws.send_json({"type": "ack", ack_key: sent["id"]})
    return sent


async def test_strict_simulator_acks_only_event_id(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, bus: EventBus
) -> None:
    """Strict: an ack keyed 'id' does not settle the event, so it comes again."""
    sent = await _delivered(session, sim, instance, bus, ack_key="id")
    url = f"{sim.realtime_url}/events/ws?instance_id={instance.id}"
    async with session.ws_connect(url, headers=await _headers(sim, instance)()) as ws:
        assert (await ws.receive_json(timeout=5))["id"] == sent["id"]


async def test_unacked_event_is_redelivered(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, bus: EventBus
) -> None:
    """A delivered but un-acked event comes again on the next connection, and not after an ack."""
    sent = await _delivered(session, sim, instance, bus, ack_key=None)
    url = f"{sim.realtime_url}/events/ws?instance_id={instance.id}"
    headers = await _headers(sim, instance)()
    async with session.ws_connect(url, headers=headers) as ws:
        assert (await ws.receive_json(timeout=5))["id"] == sent["id"]
        await ws.send_json({"type": "ack", "event_id": sent["id"]})
    async with session.ws_connect(url, headers=headers) as ws:
        later = await bus.inject(instance.id, "Message", _message(2))
        assert (await ws.receive_json(timeout=5))["id"] == later["id"]


async def test_query_credentials_and_case_insensitive_repeated_filters(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, bus: EventBus
) -> None:
    """Credentials in the query and repeated lower-case ``events`` params are honoured."""
    jwt, _ = sim.state.accounts.issue_jwt(sim.account)
    url = (
        f"{sim.realtime_url}/events/ws?instance_id={instance.id}&access_token={jwt}"
        "&events=message&events=readreceipt"
    )
    async with session.ws_connect(url) as ws:
        await bus.inject(instance.id, "Presence", {})
        wanted = await bus.inject(instance.id, "ReadReceipt", {"message_i_ds": ["M1"]})
        frame = await ws.receive_json(timeout=5)
    assert frame["id"] == wanted["id"]
    assert frame["data"] == {"type": "ReadReceipt", "event": {"message_i_ds": ["M1"]}}


async def test_every_subscriber_gets_a_copy_and_types_filter(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance, bus: EventBus
) -> None:
    """Two streams of one instance both receive an event; a typed stream skips other types."""
    async with (
        _stream(session, sim, instance) as everything,
        _stream(session, sim, instance, types=["Message"]) as messages,
    ):
        presence = await bus.inject(instance.id, "Presence", {})
        message = await bus.inject(instance.id, "Message", _message(1))
        assert (await _next(everything)).id == presence["id"]
        assert (await _next(everything)).id == message["id"]
        assert (await _next(messages)).id == message["id"]
    assert "events=Message" in str(messages.url)


async def test_bad_credentials_raise_authentication_error(
    session: aiohttp.ClientSession, sim: Simulator, instance: SimInstance
) -> None:
    """A refused handshake raises AuthenticationError instead of reconnecting forever."""

    async def bad() -> dict[str, str]:
        return {"X-Instance-Token": "inst_wrong", "X-Client-Token": sim.client_token}

    stream = RealtimeStream(session, sim.realtime_url, instance.id, bad)
    with pytest.raises(AuthenticationError):
        async with stream:
            pass


class _ScriptedServer:
    """A WebSocket server whose n-th connection runs the n-th script."""

    def __init__(self, *scripts: Callable[[web.WebSocketResponse], Awaitable[None]]) -> None:
        self.scripts = list(scripts)
        self.requests: list[web.Request] = []
        self.acks: list[str] = []
        app = web.Application()
        app.router.add_get("/events/ws", self._handle)
        self.server = TestServer(app, host="127.0.0.1")

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        self.requests.append(request)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        script = self.scripts.pop(0) if self.scripts else None
        if script is not None:
            await script(ws)
        async for message in ws:
            frame = json.loads(message.data)
            if frame.get("type") == "ack":
                self.acks.append(frame["event_id"])
        return ws

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).replace("http://", "ws://").rstrip("/")


def _frame(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "Message",
        "instance_id": "VZS",
        "created_at": "2026-06-23T22:57:17.000Z",
        "data": {"type": "Message", "event": {"info": {"id": event_id}}},
    }


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[..., Awaitable[_ScriptedServer]]]:
    servers: list[_ScriptedServer] = []

    async def start(
        *scripts: Callable[[web.WebSocketResponse], Awaitable[None]],
    ) -> _ScriptedServer:
        server = _ScriptedServer(*scripts)
        await server.server.start_server()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.server.close()


async def _static_headers() -> dict[str, str]:
    return {"Authorization": "Bearer jwt-value", "X-Instance-Token": "inst_value"}


async def test_stale_connection_reconnects_and_credentials_stay_out_of_the_url(
    session: aiohttp.ClientSession, scripted: Callable[..., Awaitable[_ScriptedServer]]
) -> None:
    """A connection with no frames is replaced; credentials travel in headers only."""

    async def silent(ws: web.WebSocketResponse) -> None:
        return None

    async def speaks(ws: web.WebSocketResponse) -> None:
        await ws.send_json(_frame("evt_1"))

    server = await scripted(silent, speaks)
    stream = RealtimeStream(
        session, server.url, "VZS", _static_headers, stale_after=0.2, backoff_base=0.01
    )
    async with stream:
        assert (await _next(stream)).id == "evt_1"
    assert stream.connections == 2
    for request in server.requests:
        assert request.headers["Authorization"] == "Bearer jwt-value"
        assert "jwt-value" not in str(request.url)
        assert "inst_value" not in str(request.url)


async def test_non_event_frames_are_ignored_and_duplicates_skipped(
    session: aiohttp.ClientSession, scripted: Callable[..., Awaitable[_ScriptedServer]]
) -> None:
    """Control frames and junk are skipped; a repeated event is re-acked but yielded once."""

    async def noisy(ws: web.WebSocketResponse) -> None:
        await ws.send_str("not json")
        await ws.send_json({"type": "hello"})
        await ws.send_json(_frame("evt_1"))
        await ws.send_json(_frame("evt_1"))
        await ws.send_json(_frame("evt_2"))

    server = await scripted(noisy)
    async with RealtimeStream(session, server.url, "VZS", _static_headers) as stream:
        assert (await _next(stream)).id == "evt_1"
        assert (await _next(stream)).id == "evt_2"
    assert server.acks == ["evt_1", "evt_1", "evt_2"]


async def test_query_credentials_only_on_request(
    session: aiohttp.ClientSession, scripted: Callable[..., Awaitable[_ScriptedServer]]
) -> None:
    """With query_credentials the JWT and token also travel in the query, as the SDKs send them."""

    async def speaks(ws: web.WebSocketResponse) -> None:
        await ws.send_json(_frame("evt_1"))

    server = await scripted(speaks)
    stream = RealtimeStream(session, server.url, "VZS", _static_headers, query_credentials=True)
    async with stream:
        assert (await _next(stream)).id == "evt_1"
    [request] = server.requests
    assert request.query["access_token"] == "jwt-value"
    assert request.query["instance_token"] == "inst_value"
    assert request.headers["Authorization"] == "Bearer jwt-value"


async def test_instance_events_send_the_jwt_and_both_tokens(
    scripted: Callable[..., Awaitable[_ScriptedServer]],
) -> None:
    """A handle's stream sends what every official SDK sends: the JWT and both tokens."""
    from vzaps_async import Client, ClientConfig

    async def speaks(ws: web.WebSocketResponse) -> None:
        await ws.send_json(_frame("evt_1"))

    server = await scripted(speaks)
    async with Simulator() as sim:
        instance = sim.state.registry.create(sim.account, "rt")
        config = ClientConfig(base_url=sim.base_url, realtime_url=server.url)
        async with (
            Client(sim.client_token, sim.client_secret, config=config) as client,
            client.instance(instance.id, instance.token).events() as stream,
        ):
            assert (await _next(stream)).id == "evt_1"
    [request] = server.requests
    assert request.headers["Authorization"].startswith("Bearer ")
    assert request.headers["X-Client-Token"] == sim.client_token
    assert request.headers["X-Instance-Token"] == instance.token
    assert "access_token" not in request.query


class _HeldHandshakeServer:
    """Connection 1 is accepted and closed at once; later handshakes wait for `release`."""

    def __init__(self) -> None:
        self.handshake_started = asyncio.Event()
        self.release = asyncio.Event()
        self.socket_closed = asyncio.Event()
        self.connections = 0
        app = web.Application()
        app.router.add_get("/events/ws", self._handle)
        self.server = TestServer(app, host="127.0.0.1")

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        self.connections += 1
        ws = web.WebSocketResponse()
        if self.connections == 1:
            await ws.prepare(request)
            await ws.close()
            return ws
        self.handshake_started.set()
        await self.release.wait()
        await ws.prepare(request)
        await ws.send_json(_frame(f"evt_{self.connections}"))
        async for _ in ws:
            pass
        self.socket_closed.set()
        return ws

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).replace("http://", "ws://").rstrip("/")


@pytest.fixture
async def held() -> AsyncIterator[_HeldHandshakeServer]:
    server = _HeldHandshakeServer()
    await server.server.start_server()
    yield server
    server.release.set()
    await server.server.close()


async def test_aclose_during_a_reconnect_handshake_closes_the_new_socket_and_ends_iteration(
    session: aiohttp.ClientSession, held: _HeldHandshakeServer
) -> None:
    """A socket whose handshake completes after aclose() is closed and yields no event."""
    stream = RealtimeStream(session, held.url, "VZS", _static_headers, backoff_base=0.01)
    await stream.__aenter__()
    got: list[str | None] = []

    async def consume() -> None:
        async for event in stream:
            got.append(event.id)

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(held.handshake_started.wait(), 5)
        await stream.aclose()
        held.release.set()
        await asyncio.wait_for(held.socket_closed.wait(), 5)
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await stream.aclose()
    assert got == []


async def test_aclose_during_the_reconnect_backoff_ends_iteration_without_waiting_it_out(
    session: aiohttp.ClientSession,
    held: _HeldHandshakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aclose() from another task while the stream waits to reconnect ends iteration at once."""
    in_backoff = asyncio.Event()

    def long_delay(*args: Any, **kwargs: Any) -> float:
        in_backoff.set()
        return 3600.0

    monkeypatch.setattr(realtime_mod, "full_jitter", long_delay)
    stream = RealtimeStream(session, held.url, "VZS", _static_headers)
    await stream.__aenter__()  # connection 1, which the server closes at once
    task = asyncio.create_task(anext(stream))
    try:
        await asyncio.wait_for(in_backoff.wait(), 5)
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert held.connections == 1


def _record_backoff(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every reconnect immediate and return the retry numbers its delays were drawn for."""
    retries: list[int] = []

    def record(retry_number: int, **_: Any) -> float:
        retries.append(retry_number)
        return 0.0

    monkeypatch.setattr(realtime_mod, "full_jitter", record)
    return retries


async def _closes(ws: web.WebSocketResponse) -> None:
    await ws.close(code=1011)


async def test_connections_closed_before_any_frame_count_as_failures(
    session: aiohttp.ClientSession,
    scripted: Callable[..., Awaitable[_ScriptedServer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that accepts each socket and closes it before any frame makes the backoff grow
    and, past max_reconnects, raises ConnectError."""
    retries = _record_backoff(monkeypatch)

    server = await scripted(*[_closes] * 10)
    stream = RealtimeStream(session, server.url, "VZS", _static_headers, max_reconnects=3)
    async with stream:
        with pytest.raises(ConnectError):
            await _next(stream)
    assert retries == [2, 3, 4]
    assert stream.connections == 4


async def test_a_frame_proves_a_connection_healthy_and_resets_the_backoff(
    session: aiohttp.ClientSession,
    scripted: Callable[..., Awaitable[_ScriptedServer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a connection delivered a frame, its close is a clean drop: the backoff restarts."""
    retries = _record_backoff(monkeypatch)

    def speaks_then_closes(event_id: str) -> Callable[[web.WebSocketResponse], Awaitable[None]]:
        async def script(ws: web.WebSocketResponse) -> None:
            await ws.send_json(_frame(event_id))
            await ws.close()

        return script

    server = await scripted(
        _closes, _closes, speaks_then_closes("evt_1"), speaks_then_closes("evt_2")
    )
    stream = RealtimeStream(session, server.url, "VZS", _static_headers, max_reconnects=2)
    async with stream:
        assert (await _next(stream)).id == "evt_1"
        assert (await _next(stream)).id == "evt_2"
    assert retries == [2, 3, 1]


async def test_aclose_of_a_connection_without_frames_ends_iteration_without_a_failure(
    session: aiohttp.ClientSession, scripted: Callable[..., Awaitable[_ScriptedServer]]
) -> None:
    """aclose() while waiting on a connection that sent nothing ends iteration, not ConnectError."""
    server = await scripted()
    stream = RealtimeStream(session, server.url, "VZS", _static_headers, max_reconnects=0)
    await stream.__aenter__()
    task = asyncio.create_task(anext(stream))
    try:
        await asyncio.sleep(0.1)  # lets the task wait on the socket
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
