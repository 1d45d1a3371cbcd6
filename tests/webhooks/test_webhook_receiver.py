"""The aiohttp webhook receiver: validation answers, secrets, background handling, draining."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from vzaps_async.models.events import BaseEvent, Message, parse_event
from vzaps_async.webhooks import Router, webhook_app
from vzaps_async.webhooks._cli import build_parser, describe, print_router
from vzaps_async.webhooks._receiver import RECEIVER_KEY, WebhookReceiver

ENVELOPE = {
    "id": "evt_01",
    "type": "Message",
    "instance_id": "VZA",
    "created_at": "2026-06-23T22:57:17.000Z",
    "data": {
        "type": "Message",
        "event": {
            "info": {"id": "M1", "chat": "55@s.whatsapp.net"},
            "message": {"conversation": "hi"},
        },
    },
}


class _Recorder:
    def __init__(self, router: Router) -> None:
        self.queue: asyncio.Queue[BaseEvent] = asyncio.Queue()

        @router.on()
        async def record(event: BaseEvent) -> None:
            await self.queue.put(event)

    async def next(self) -> BaseEvent:
        return await asyncio.wait_for(self.queue.get(), 5)


async def _serve(app: web.Application) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_valid_delivery_is_accepted_and_handled(session: aiohttp.ClientSession) -> None:
    """A JSON envelope answers 202 and reaches the handler as a typed event."""
    router = Router()
    recorder = _Recorder(router)
    async for server in _serve(webhook_app(router)):
        async with session.post(server.make_url("/webhook"), json=ENVELOPE) as resp:
            assert resp.status == 202
            assert (await resp.json())["id"] == "evt_01"
        event = await recorder.next()
        assert isinstance(event, Message)
        assert event.text == "hi"


async def test_bare_data_uses_instance_header(session: aiohttp.ClientSession) -> None:
    """A bare data body is accepted and gets its instance id from X-Instance-ID."""
    router = Router()
    recorder = _Recorder(router)
    async for server in _serve(webhook_app(router)):
        async with session.post(
            server.make_url("/webhook"), json=ENVELOPE["data"], headers={"X-Instance-ID": "VZH"}
        ) as resp:
            assert resp.status == 202
        event = await recorder.next()
        assert event.instance_id == "VZH"


@pytest.mark.parametrize(
    ("body", "headers", "status", "needle"),
    [
        (b"x" * 2048, {"Content-Type": "application/json"}, 413, "larger than"),
        (json.dumps(ENVELOPE).encode(), {"Content-Type": "text/plain"}, 415, "application/json"),
        (b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "JSON object"),
        (b'{"hello": 1}', {"Content-Type": "application/json"}, 400, "not an event"),
    ],
)
async def test_bad_requests_are_refused_before_handlers(
    session: aiohttp.ClientSession, body: bytes, headers: dict[str, str], status: int, needle: str
) -> None:
    """Oversized, non-JSON, malformed and non-event bodies get a clear 4xx and no handler runs."""
    router = Router()
    recorder = _Recorder(router)
    async for server in _serve(webhook_app(router, max_body=1024)):
        async with session.post(server.make_url("/webhook"), data=body, headers=headers) as resp:
            assert resp.status == status
            assert needle in (await resp.json())["error"]
    assert recorder.queue.empty()


async def test_oversized_chunked_body_is_refused(session: aiohttp.ClientSession) -> None:
    """A body without Content-Length that grows past the limit is refused with 413."""
    router = Router()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 512

    async for server in _serve(webhook_app(router, max_body=1024)):
        async with session.post(
            server.make_url("/webhook"),
            data=chunks(),
            headers={"Content-Type": "application/json"},
        ) as resp:
            assert resp.status == 413


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/webhook", {}, 401),
        ("/webhook?secret=wrong", {}, 403),
        ("/webhook/wrong", {}, 403),
        ("/webhook", {"X-Webhook-Secret": "wrong"}, 403),
        ("/webhook?secret=s3cret-value", {}, 202),
        ("/webhook/s3cret-value", {}, 202),
        ("/webhook", {"X-Webhook-Secret": "s3cret-value"}, 202),
    ],
)
async def test_shared_secret_in_path_query_or_header(
    session: aiohttp.ClientSession, path: str, headers: dict[str, str], status: int
) -> None:
    """The secret is accepted in any of its three places; missing is 401, wrong is 403."""
    router = Router()
    recorder = _Recorder(router)
    async for server in _serve(webhook_app(router, secret="s3cret-value")):
        async with session.post(server.make_url(path), json=ENVELOPE, headers=headers) as resp:
            assert resp.status == status
            assert "s3cret-value" not in await resp.text()
        if status == 202:
            assert (await recorder.next()).id == "evt_01"
        else:
            assert recorder.queue.empty()


async def test_mounted_as_subapp_and_drains_on_cleanup(session: aiohttp.ClientSession) -> None:
    """Mounted with add_subapp, the receiver answers before handlers finish and drains them."""
    router = Router()
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[str | None] = []

    @router.on("Message")
    async def slow(event: Message) -> None:
        started.set()
        await release.wait()
        finished.append(event.id)

    parent = web.Application()
    parent.add_subapp("/hooks", webhook_app(router))
    server = TestServer(parent, host="127.0.0.1")
    await server.start_server()
    try:
        async with session.post(server.make_url("/hooks/webhook"), json=ENVELOPE) as resp:
            assert resp.status == 202
        await asyncio.wait_for(started.wait(), 5)
        assert finished == []
        asyncio.get_running_loop().call_soon(release.set)
    finally:
        await server.close()
    assert finished == ["evt_01"]


async def test_duplicate_deliveries_are_handled_once(session: aiohttp.ClientSession) -> None:
    """Posting the same event twice runs its handlers once."""
    router = Router()
    recorder = _Recorder(router)
    async for server in _serve(webhook_app(router)):
        for _ in range(2):
            async with session.post(server.make_url("/webhook"), json=ENVELOPE) as resp:
                assert resp.status == 202
        other = {**ENVELOPE, "id": "evt_02"}
        async with session.post(server.make_url("/webhook"), json=other) as resp:
            assert resp.status == 202
        ids = [(await recorder.next()).id, (await recorder.next()).id]
    assert ids == ["evt_01", "evt_02"]


async def test_cli_parser_and_print_router(caplog: pytest.LogCaptureFixture) -> None:
    """The CLI parses its options and its router logs a one-line summary of each event."""
    args = build_parser().parse_args(["--port", "9001", "--secret", "abc", "--path", "/hook"])
    assert (args.host, args.port, args.secret, args.path) == ("127.0.0.1", 9001, "abc", "/hook")
    router = print_router()
    with caplog.at_level("INFO", logger="vzaps_async"):
        await router.dispatch(ENVELOPE)
    assert any(
        "Message evt_01" in r.getMessage() and "'hi'" in r.getMessage() for r in caplog.records
    )
    unknown: dict[str, Any] = {"id": "evt_x", "type": "qr", "data": {"event": {}}}
    assert describe(await _parse(unknown)).startswith("qr evt_x")


async def _parse(payload: dict[str, Any]) -> BaseEvent:

    return parse_event(payload)


async def test_json_nested_too_deeply_is_a_400(session: aiohttp.ClientSession) -> None:
    """A body nested thousands of levels deep answers 400, not a 500 from a RecursionError."""
    router = Router()
    deep = b'{"type": "Message", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    async for server in _serve(webhook_app(router, max_body=len(deep))):
        async with session.post(
            server.make_url("/webhook"), data=deep, headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 400
            assert "nested too deeply" in (await resp.json())["error"]


async def test_a_body_that_does_not_arrive_in_time_is_a_408() -> None:
    """A sender that stops half-way through its body is answered 408 after read_timeout."""
    router = Router()
    async for server in _serve(webhook_app(router, read_timeout=0.2)):
        assert server.port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"type":'
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        assert status_line.startswith(b"HTTP/1.1 408")
        writer.close()


async def _until(condition: Any) -> None:
    # Waits on receiver internals that have no event of their own (a request parked on a slot).
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def test_bodies_are_read_only_with_a_slot_and_waiting_is_bounded(
    session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every handler slot busy, a delivery waits with its body unread, one past
    max_waiting gets 503 with Retry-After, and the waiting one is accepted once a slot frees."""
    router = Router()
    release = asyncio.Event()
    started = asyncio.Event()

    @router.on()
    async def slow(event: BaseEvent) -> None:
        started.set()
        await release.wait()

    app = webhook_app(router, concurrency=1, max_waiting=1)
    receiver = app[RECEIVER_KEY]
    reads = 0
    read_body = WebhookReceiver._read_body

    async def counting(self: WebhookReceiver, request: web.Request) -> Any:
        nonlocal reads
        reads += 1
        return await read_body(self, request)

    monkeypatch.setattr(WebhookReceiver, "_read_body", counting)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = server.make_url("/webhook")

    async def post(event_id: str) -> int:
        async with session.post(url, json={**ENVELOPE, "id": event_id}) as resp:
            return resp.status

    try:
        assert await post("evt_a") == 202
        await started.wait()
        waiting = asyncio.create_task(post("evt_b"))
        await _until(lambda: receiver._waiting == 1)
        async with asyncio.timeout(10), session.post(url, json={**ENVELOPE, "id": "evt_c"}) as resp:
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "1"
        assert reads == 1  # neither the waiting nor the refused body was read
        release.set()
        assert await waiting == 202
        assert reads == 2
    finally:
        await server.close()


async def test_shutdown_answers_waiting_requests_and_cancels_handlers_after_drain_timeout(
    session: aiohttp.ClientSession,
) -> None:
    """On shutdown a request waiting for a slot gets 503 at once and a handler still running
    after drain_timeout is cancelled, so shutdown does not wait on either."""
    router = Router()
    cancelled = asyncio.Event()
    started = asyncio.Event()

    @router.on()
    async def stuck(event: BaseEvent) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = webhook_app(router, concurrency=1, drain_timeout=0.1)
    receiver = app[RECEIVER_KEY]
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = server.make_url("/webhook")
    async with session.post(url, json=ENVELOPE) as resp:
        assert resp.status == 202
    await started.wait()

    async def post() -> int:
        async with session.post(url, json={**ENVELOPE, "id": "evt_w"}) as resp:
            return resp.status

    waiting = asyncio.create_task(post())
    await _until(lambda: receiver._waiting == 1)
    closing = asyncio.create_task(server.close())
    assert await asyncio.wait_for(waiting, 10) == 503  # (a hang guard, not a timing check)
    await closing
    assert cancelled.is_set()


def test_a_message_without_chat_or_text_is_described_without_placeholders() -> None:
    """`webhook serve` logs a Message that has no chat or text without 'chat=-' or 'None'."""
    bare = parse_event({"id": "evt_n", "type": "Message", "instance_id": "VZA", "data": {}})
    line = describe(bare)
    assert line == "Message evt_n instance=VZA in (no text)"


async def test_a_waiting_delivery_cancelled_as_its_slot_frees_gives_the_slot_back() -> None:
    """A delivery cancelled just after the slot it waited for was granted does not keep it."""
    import asyncio
    import contextlib

    from vzaps_async.webhooks._receiver import WebhookReceiver

    receiver = WebhookReceiver(Router(), concurrency=1)
    assert await receiver._take_slot() is None  # the one slot is busy now
    waiting = asyncio.ensure_future(receiver._take_slot())
    await asyncio.sleep(0)
    receiver._free_slot()  # the waiter's acquire is granted...
    await asyncio.sleep(0)
    waiting.cancel()  # ...and the waiter is cancelled before it resumes
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    assert receiver._slots is not None
    assert not receiver._slots.locked()
