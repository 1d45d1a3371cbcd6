"""Messages API: every send and message action on the wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.api.messages import MessagesAPI
from vzaps_async.errors import InputError, ResponseError
from vzaps_async.models import Button, ListRow, ListSection

CHAT = f"/instances/{IID}/chat"
PHONE = "5511999999999"
Send = Callable[[MessagesAPI], Awaitable[Any]]

SENDS: list[tuple[str, Send, dict[str, Any]]] = [
    (
        "text",
        lambda m: m.send_text("+" + PHONE, "hi", id="c1", delay=2, mentioned_ids=["a@s"]),
        {"phone": PHONE, "message": "hi", "id": "c1", "delay": 2, "mentioned_ids": ["a@s"]},
    ),
    (
        "image",
        lambda m: m.send_image(PHONE, "https://x/i.png", caption="c"),
        {"phone": PHONE, "image": "https://x/i.png", "caption": "c"},
    ),
    (
        "audio",
        lambda m: m.send_audio(PHONE, "https://x/a.ogg", ptt=True),
        {"phone": PHONE, "audio": "https://x/a.ogg", "ptt": True},
    ),
    (
        "document",
        lambda m: m.send_document(PHONE, "https://x/d.pdf", file_name="d.pdf"),
        {"phone": PHONE, "document": "https://x/d.pdf", "file_name": "d.pdf"},
    ),
    (
        "video",
        lambda m: m.send_video(PHONE, "https://x/v.mp4", reply_to_message_id="m0"),
        {"phone": PHONE, "video": "https://x/v.mp4", "reply_to_message_id": "m0"},
    ),
    (
        "sticker",
        lambda m: m.send_sticker(PHONE, "https://x/s.webp"),
        {"phone": PHONE, "sticker": "https://x/s.webp"},
    ),
    (
        "gif",
        lambda m: m.send_gif("120363@g.us", "https://x/g.mp4"),
        {"phone": "120363@g.us", "gif": "https://x/g.mp4"},
    ),
    (
        "location",
        lambda m: m.send_location(PHONE, -23.5, -46.6, name="SP"),
        {"phone": PHONE, "latitude": -23.5, "longitude": -46.6, "name": "SP"},
    ),
    (
        "contact",
        lambda m: m.send_contact(PHONE, "Ana", "5511888888888"),
        {"phone": PHONE, "contact_name": "Ana", "contact_phone": "5511888888888"},
    ),
    (
        "buttons",
        lambda m: m.send_buttons(PHONE, "pick", [Button("b1", "Yes")], footer="f"),
        {
            "phone": PHONE,
            "message": "pick",
            "buttons": [{"id": "b1", "text": "Yes"}],
            "footer": "f",
        },
    ),
    (
        "list",
        lambda m: m.send_list(
            PHONE,
            title="T",
            description="D",
            button_text="Open",
            sections=[ListSection("S", (ListRow("r1", "Row"),))],
        ),
        {
            "phone": PHONE,
            "title": "T",
            "description": "D",
            "button_text": "Open",
            "sections": [{"title": "S", "rows": [{"id": "r1", "title": "Row"}]}],
        },
    ),
    (
        "link",
        lambda m: m.send_link(PHONE, "https://example.com", title="Ex"),
        {
            "phone": PHONE,
            "message": "https://example.com",
            "link_url": "https://example.com",
            "title": "Ex",
        },
    ),
    (
        "poll",
        lambda m: m.send_poll(PHONE, "Lunch?", ["A", "B"], selectable_options_count=1),
        {"phone": PHONE, "name": "Lunch?", "options": ["A", "B"], "selectable_options_count": 1},
    ),
]


@pytest.mark.parametrize(("kind", "send", "body"), SENDS, ids=[s[0] for s in SENDS])
async def test_sends_post_their_route_and_body(
    wire: Wire, client: Client, kind: str, send: Send, body: dict[str, Any]
) -> None:
    """Each send POSTs chat/send/<kind> with the instance token and returns the message id."""
    wire.reply("POST", f"{CHAT}/send/{kind}", envelope({"message_id": "3EB0", "details": "Sent"}))
    sent = await send(client.instance(IID, INSTANCE_TOKEN).messages)
    call = wire.last
    assert (call.method, call.path, call.auth) == ("POST", f"{CHAT}/send/{kind}", "instance")
    assert call.headers["X-Instance-Token"] == INSTANCE_TOKEN
    assert call.json == body
    assert sent.message_id == "3EB0"


ACTIONS: list[tuple[str, Send, str, str, dict[str, Any] | None]] = [
    (
        "vote",
        lambda m: m.vote_poll(PHONE, "p1", ["A"]),
        "POST",
        f"{CHAT}/poll/vote",
        {"phone": PHONE, "message_id": "p1", "selected_options": ["A"]},
    ),
    (
        "react",
        lambda m: m.react(PHONE, "m1", "👍"),
        "POST",
        f"{CHAT}/react",
        {"phone": PHONE, "message_id": "m1", "reaction": "👍"},
    ),
    (
        "unreact",
        lambda m: m.remove_reaction(PHONE, "m1"),
        "DELETE",
        f"{CHAT}/react",
        {"phone": PHONE, "message_id": "m1"},
    ),
    (
        "presence",
        lambda m: m.presence(PHONE, "composing", media="audio"),
        "POST",
        f"{CHAT}/presence",
        {"phone": PHONE, "state": "composing", "media": "audio"},
    ),
    (
        "markread",
        lambda m: m.mark_read(PHONE, ["m1", "m2"]),
        "POST",
        f"{CHAT}/markread",
        {"id": ["m1", "m2"], "chat": PHONE},
    ),
    (
        "edit",
        lambda m: m.edit("m1", "new", PHONE),
        "PATCH",
        f"{CHAT}/messages/m1",
        {"message": "new", "phone": PHONE},
    ),
    ("delete", lambda m: m.delete("m1", PHONE), "DELETE", f"{CHAT}/messages/m1", {"phone": PHONE}),
    ("generic", lambda m: m.send("send/future", {"x": 1}), "POST", f"{CHAT}/send/future", {"x": 1}),
]


@pytest.mark.parametrize(
    ("name", "act", "method", "path", "body"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
async def test_message_actions_on_the_wire(
    wire: Wire,
    client: Client,
    name: str,
    act: Send,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """Reactions, votes, presence, read marks, edits, deletes and the escape hatch hit their
    routes with their JSON bodies (a DELETE included)."""
    await act(client.instance(IID, INSTANCE_TOKEN).messages)
    call = wire.last
    assert (call.method, call.path, call.auth, call.json) == (method, path, "instance", body)


async def test_mark_read_returns_details(wire: Wire, client: Client) -> None:
    """mark_read reads the documented data.details."""
    wire.reply("POST", f"{CHAT}/markread", envelope({"details": "Mensagem entregue"}))
    result = await client.instance(IID).messages.mark_read(PHONE, ["m1"])
    assert result.details == "Mensagem entregue"


async def test_download_sends_the_media_node(wire: Wire, client: Client) -> None:
    """download_image posts the media node and decodes the base64 under any known key."""
    wire.reply("POST", f"{CHAT}/downloadimage", envelope({"base64": "aGk=", "mimetype": "x/y"}))
    node = {"url": "https://mmg/x", "direct_path": "/v/x", "media_key": "k"}
    media = await client.instance(IID, INSTANCE_TOKEN).messages.download_image(node)
    assert wire.last.json == node
    assert media.content == b"hi"
    assert media.mimetype == "x/y"


async def test_send_without_message_id_is_a_response_error(wire: Wire, client: Client) -> None:
    """A send answer without message_id raises ResponseError naming the field."""
    wire.reply("POST", f"{CHAT}/send/text", envelope({"details": "queued"}))
    with pytest.raises(ResponseError, match="message_id"):
        await client.instance(IID).messages.send_text(PHONE, "hi")


@pytest.mark.parametrize(
    ("act", "field"),
    [
        (lambda m: m.send_text(PHONE, ""), "text"),
        (lambda m: m.send_text("abc", "hi"), "phone"),
        (lambda m: m.send_location(PHONE, 91, 0), "latitude"),
        (lambda m: m.send_location(PHONE, 0, 181.5), "longitude"),
        (lambda m: m.send_poll(PHONE, "q", ["only"]), "options"),
        (lambda m: m.presence(PHONE, "typing"), "state"),
        (lambda m: m.mark_read(PHONE, "m1"), "message_ids"),
        (lambda m: m.download_video({}), "media"),
        (lambda m: m.send("../x", {}), "kind"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    wire: Wire, client: Client, act: Send, field: str
) -> None:
    """Invalid message arguments raise InputError naming the field, and nothing is sent."""
    with pytest.raises(InputError) as caught:
        await act(client.instance(IID).messages)
    assert caught.value.field == field
    assert wire.calls == []


async def test_every_send_takes_the_shared_send_options(wire: Wire, client: Client) -> None:
    """The four `SendOptions` reach the wire from any send, including the interactive ones."""
    wire.reply("POST", f"{CHAT}/send/buttons", envelope({"message_id": "3EB0"}))
    await client.instance(IID).messages.send_buttons(
        PHONE,
        "pick",
        [Button(id="y", text="Yes")],
        id="c1",
        delay=1,
        reply_to_message_id="m0",
        mentioned_ids=["a@s"],
    )
    assert wire.last.json == {
        "phone": PHONE,
        "message": "pick",
        "buttons": [{"id": "y", "text": "Yes"}],
        "id": "c1",
        "delay": 1,
        "reply_to_message_id": "m0",
        "mentioned_ids": ["a@s"],
    }


async def test_an_unknown_send_option_is_a_type_error(wire: Wire, client: Client) -> None:
    """A misspelt send option fails like any unknown keyword argument, and nothing is sent."""
    messages = client.instance(IID).messages
    with pytest.raises(TypeError, match=r"send_text.*'dealy'"):
        await messages.send_text(PHONE, "hi", dealy=1)  # type: ignore[call-arg]
    assert wire.calls == []
