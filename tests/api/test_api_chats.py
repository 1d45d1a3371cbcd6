"""Chats API on the wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.api.chats import ChatsAPI
from vzaps_async.errors import InputError
from vzaps_async.models import ChatExpiration, StatusResult

PHONE = "5511999999999"
ROOT = f"/instances/{IID}/chats"
Act = Callable[[ChatsAPI], Awaitable[Any]]

CHAT_EXAMPLE = {
    "phone": PHONE,
    "jid": f"{PHONE}@s.whatsapp.net",
    "name": "Ana",
    "archived": False,
    "pinned": True,
    "unread": "3",
    "messages_unread": 3,
    "marked_as_unread": False,
    "is_muted": "1",
    "is_marked_spam": False,
    "is_group": False,
    "is_group_announcement": False,
    "last_message_time": "2026-04-13 10:00",
    "last_message_timestamp_ms": 1776074400000,
    "mute_end_time": 0,
    "brand_new_field": {"x": 1},
}

ACTIONS: list[tuple[str, Act, str, str, dict[str, Any] | None]] = [
    ("archive", lambda c: c.archive(PHONE), "POST", f"{ROOT}/{PHONE}/archive", None),
    ("unarchive", lambda c: c.unarchive(PHONE), "POST", f"{ROOT}/{PHONE}/unarchive", None),
    (
        "mute",
        lambda c: c.mute(PHONE, 3600),
        "POST",
        f"{ROOT}/{PHONE}/mute",
        {"duration_seconds": 3600},
    ),
    ("mute-forever", lambda c: c.mute(PHONE), "POST", f"{ROOT}/{PHONE}/mute", None),
    ("unmute", lambda c: c.unmute(PHONE), "POST", f"{ROOT}/{PHONE}/unmute", None),
    ("pin", lambda c: c.pin(PHONE), "POST", f"{ROOT}/{PHONE}/pin", None),
    ("unpin", lambda c: c.unpin(PHONE), "POST", f"{ROOT}/{PHONE}/unpin", None),
    ("read", lambda c: c.read(PHONE), "POST", f"{ROOT}/{PHONE}/read", None),
    ("unread", lambda c: c.unread(PHONE), "POST", f"{ROOT}/{PHONE}/unread", None),
    (
        "clear",
        lambda c: c.clear(PHONE, delete_media=True),
        "POST",
        f"{ROOT}/{PHONE}/clear",
        {"delete_media": True},
    ),
    ("delete", lambda c: c.delete(PHONE), "DELETE", f"{ROOT}/{PHONE}", {"delete_media": False}),
    (
        "expiration",
        lambda c: c.set_expiration(PHONE, ChatExpiration.DAYS_7),
        "PUT",
        f"{ROOT}/{PHONE}/expiration",
        {"expiration": "7_DAYS"},
    ),
]


@pytest.mark.parametrize(
    ("name", "act", "method", "path", "body"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
async def test_chat_actions(
    wire: Wire,
    client: Client,
    name: str,
    act: Act,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """Each chat action hits its route with the instance token and its body."""
    wire.reply(method, path, {"status": "ok"})
    assert await act(client.instance(IID, INSTANCE_TOKEN).chats) == StatusResult(status="ok")
    call = wire.last
    assert (call.method, call.path, call.auth, call.json) == (method, path, "instance", body)


async def test_get_reads_the_flat_chat_object(wire: Wire, client: Client) -> None:
    """get structures the documented flat chat object and ignores unknown fields."""
    wire.reply("GET", f"{ROOT}/{PHONE}", CHAT_EXAMPLE)
    chat = await client.instance(IID, INSTANCE_TOKEN).chats.get("+" + PHONE)
    assert chat.unread == "3"
    assert chat.muted
    assert chat.pinned


async def test_list_and_iter(wire: Wire, client: Client) -> None:
    """list sends paging parameters; iter follows total_pages."""
    chats = client.instance(IID, INSTANCE_TOKEN).chats
    wire.reply("GET", ROOT, envelope({"content": [CHAT_EXAMPLE], "page": 1, "total_pages": 2}))
    wire.reply("GET", ROOT, envelope({"content": [{"jid": "g@g.us"}], "page": 2, "total_pages": 2}))
    jids = [c.jid async for c in chats.iter(page_size=1)]
    assert jids == [f"{PHONE}@s.whatsapp.net", "g@g.us"]
    assert [c.query for c in wire.calls] == [
        {"page": "1", "page_size": "1"},
        {"page": "2", "page_size": "1"},
    ]


async def test_bad_expiration_is_refused(wire: Wire, client: Client) -> None:
    """An unknown expiration raises InputError naming 'expiration'."""
    with pytest.raises(InputError) as caught:
        await client.instance(IID).chats.set_expiration(PHONE, "1_YEAR")
    assert caught.value.field == "expiration"
    assert wire.calls == []


@pytest.mark.parametrize(
    ("field", "options"), [("page", {"page": 0}), ("page_size", {"page_size": 0})]
)
async def test_bad_paging_of_a_list_is_refused_before_any_request(
    wire: Wire, client: Client, field: str, options: dict[str, int]
) -> None:
    """A page or page size below 1 raises InputError naming it, and nothing is sent."""
    instance = client.instance(IID, INSTANCE_TOKEN)
    for listing in (instance.chats.list, instance.groups.list, instance.queues.messages):
        with pytest.raises(InputError) as caught:
            await listing(**options)
        assert caught.value.field == field
    assert wire.calls == []
