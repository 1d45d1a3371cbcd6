"""Simulator resource routes: auth rules, sends, message actions, downloads and queues.

Every test talks plain HTTP (aiohttp) to a running `Simulator` through `_sim_api.Api` (shared with
the other ``test_sim_resources_*`` modules; the ``api`` fixture is in this folder's conftest).
"""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest
from _sim_api import PHONE, Api, open_api
from aiohttp import web

from vzaps_async.testing import ManualClock, Simulator
from vzaps_async.testing._app import build_app
from vzaps_async.testing._resources_common import RESOURCE_SETTINGS_KEY
from vzaps_async.testing._resources_store import (
    QueueEntry,
    ResourceLimits,
    ResourceStore,
    SentMessage,
    parse_target,
)
from vzaps_async.testing._state import SimState

# ------------------------------------------------------------------------------ auth


async def test_no_credentials_are_refused_with_401(api: Api) -> None:
    """A resource route without credentials answers 401."""
    body = await api.error(
        "POST", "chat/send/text", {"phone": PHONE, "message": "hi"}, status=401, auth="none"
    )
    assert body["error_code"] == "UNAUTHORIZED"


async def test_instance_token_without_client_token_is_refused(api: Api) -> None:
    """The instance token alone (no client token) answers 401."""
    await api.error("GET", "chats", status=401, auth="instance_only")


async def test_instance_and_client_token_are_accepted(api: Api) -> None:
    """The instance token together with the client token authorizes resource routes."""
    data = await api.data(
        "POST", "chat/send/text", {"phone": PHONE, "message": "hi"}, auth="instance"
    )
    assert data["message_id"]


async def test_unknown_instance_is_404(api: Api) -> None:
    """A resource route of an unknown instance answers 404 with the owner's JWT."""
    api.instance_id = "VZUNKNOWN0000000000000000000"
    await api.error("GET", "chats", status=404)


# ------------------------------------------------------------------------------ sends


async def test_send_text_answers_envelope_with_message_id(api: Api) -> None:
    """send/text answers the envelope with message_id, details and timestamp."""
    data = await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "hello"})
    assert data["message_id"].startswith("3EB0")
    assert data["details"] in ("Sent", "Queued")
    assert data["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("kind", "body", "missing"),
    [
        ("text", {"phone": PHONE}, "message"),
        ("text", {"message": "x"}, "phone"),
        ("image", {"phone": PHONE}, "image"),
        ("audio", {"phone": PHONE}, "audio"),
        ("document", {"phone": PHONE}, "document"),
        ("video", {"phone": PHONE}, "video"),
        ("sticker", {"phone": PHONE}, "sticker"),
        ("gif", {"phone": PHONE}, "gif"),
        ("location", {"phone": PHONE, "latitude": 1}, "longitude"),
        ("contact", {}, "phone"),
        ("buttons", {"phone": PHONE, "message": "m"}, "buttons"),
        ("list", {"phone": PHONE, "title": "t", "description": "d", "sections": []}, "button_text"),
        ("link", {}, "phone"),
        ("poll", {"phone": PHONE, "name": "q"}, "options"),
    ],
)
async def test_send_routes_name_the_missing_field(
    api: Api, kind: str, body: dict[str, Any], missing: str
) -> None:
    """Every send route answers 400 VALIDATION_ERROR naming the missing required field."""
    error = await api.error("POST", f"chat/send/{kind}", body, status=400)
    assert error["error_code"] == "VALIDATION_ERROR"
    assert error["message"].startswith(f"{missing}:")


PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("image", {"image": PNG, "caption": "c"}),
        ("image", {"image_url": "https://example.com/a.jpg"}),
        ("audio", {"audio": "https://example.com/a.ogg", "ptt": True}),
        ("document", {"document": "https://example.com/a.pdf", "file_name": "a.pdf"}),
        ("video", {"video": "https://example.com/a.mp4", "caption": "v"}),
        ("sticker", {"sticker": "https://example.com/a.webp"}),
        ("gif", {"gif": "https://example.com/a.mp4"}),
        ("location", {"latitude": -23.5, "longitude": -46.6, "name": "SP"}),
        ("contact", {"contact_name": "Ann", "contact_phone": "5511988887777"}),
        ("buttons", {"message": "pick", "buttons": [{"id": "1", "text": "One"}]}),
        (
            "list",
            {
                "title": "t",
                "description": "d",
                "button_text": "open",
                "sections": [{"title": "s", "rows": [{"id": "r1", "title": "Row"}]}],
            },
        ),
        ("link", {"message": "see", "link_url": "https://example.com", "link_description": "d"}),
        ("link", {"link": "https://example.com", "title": "t", "description": "d"}),
        ("poll", {"name": "lunch?", "options": ["yes", "no"], "selectable_options_count": 1}),
    ],
)
async def test_every_send_route_accepts_a_valid_body(
    api: Api, kind: str, body: dict[str, Any]
) -> None:
    """Each send route (both wire spellings where two exist) accepts a complete body."""
    api.lenient()
    data = await api.data("POST", f"chat/send/{kind}", {"phone": PHONE, **body})
    assert data["message_id"]


@pytest.mark.parametrize(
    "phone", ["+5511999999999", "55 11", "abc", "123", "5511999999999@broadcast.net"]
)
async def test_send_rejects_malformed_phone(api: Api, phone: str) -> None:
    """A phone that is not country-code digits, a group id or a JID answers 400 naming phone."""
    error = await api.error("POST", "chat/send/text", {"phone": phone, "message": "x"}, status=400)
    assert error["message"].startswith("phone:")


async def test_send_accepts_jid_and_group_id(api: Api) -> None:
    """A full user JID and a group JID are valid send targets."""
    for phone in ("5511999999999@s.whatsapp.net", "120363012345678901@g.us"):
        await api.data("POST", "chat/send/text", {"phone": phone, "message": "x"})


async def test_media_must_be_url_or_data_url(api: Api) -> None:
    """A media field that is neither an http(s) URL nor a data URL answers 400."""
    error = await api.error(
        "POST", "chat/send/image", {"phone": PHONE, "image": "file:///x"}, status=400
    )
    assert error["message"].startswith("image:")


async def test_duplicate_client_id_is_a_conflict(api: Api) -> None:
    """Reusing a client-chosen message id answers 409."""
    body = {"phone": PHONE, "message": "x", "id": "MYID1"}
    assert (await api.data("POST", "chat/send/text", body))["message_id"] == "MYID1"
    await api.error("POST", "chat/send/text", body, status=409)


# ------------------------------------------------------------------------------ queue model


async def test_sends_stay_queued_until_the_instance_connects() -> None:
    """While disconnected a send is queued; connecting delivers it and publishes the event."""
    # A manual clock: on the wall clock, delivery compares the send's time with a later reading,
    # and a clock stepped back in between (NTP on a loaded machine) leaves the message queued.
    async with Simulator(clock=ManualClock()) as sim, aiohttp.ClientSession() as http:
        api = await open_api(sim.base_url, http, sim.state)
        sent = await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "later"})
        assert sent["details"] == "Queued"
        queued = await api.data("GET", "queue/messages")
        assert [entry["message_id"] for entry in queued["content"]] == [sent["message_id"]]
        assert queued["content"][0]["status"] == "queued"
        assert api.events("Message") == []

        await api.connect()
        assert (await api.data("GET", "queue/messages"))["total"] == 0
        [event] = api.events("Message")
        assert event["info"]["id"] == sent["message_id"]
        assert event["info"]["is_from_me"] is True
        assert event["info"]["chat"] == f"{PHONE}@s.whatsapp.net"
        assert event["message"] == {"conversation": "later"}


async def test_connected_send_is_delivered_at_once(api: Api) -> None:
    """A send on a connected instance is delivered immediately (not left in the queue)."""
    await api.connect()
    data = await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "now"})
    assert data["details"] == "Sent"
    assert (await api.data("GET", "queue/messages"))["total"] == 0
    info = api.events("Message")[-1]["info"]
    assert info["sender"] == api.state.registry.get(api.instance_id).whatsapp_jid


async def test_queue_messages_can_be_removed_one_or_all(api: Api) -> None:
    """DELETE queue/messages/{id} removes one entry, DELETE queue/messages purges the rest."""
    ids = [
        (await api.data("POST", "chat/send/text", {"phone": PHONE, "message": str(i)}))[
            "message_id"
        ]
        for i in range(3)
    ]
    removed = await api.data("DELETE", f"queue/messages/{ids[0]}")
    assert removed == {"removed": 1, "message_id": ids[0]}
    await api.error("DELETE", f"queue/messages/{ids[0]}", status=404)
    assert (await api.data("DELETE", "queue/messages")) == {"removed": 2}
    await api.connect()
    assert api.events("Message") == []


async def test_actions_go_to_the_operations_queue(api: Api) -> None:
    """Presence, reactions and read marks queue as operations until connected."""
    sent = await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"})
    await api.data("POST", "chat/presence", {"phone": PHONE, "state": "composing"})
    await api.data(
        "POST", "chat/react", {"phone": PHONE, "message_id": sent["message_id"], "reaction": "👍"}
    )
    await api.data("POST", "chat/markread", {"id": ["ABC"], "chat": PHONE})
    ops = await api.data("GET", "queue/operations")
    assert [op["type"] for op in ops["content"]] == ["presence", "react", "markread"]
    one = ops["content"][0]["operation_id"]
    assert (await api.data("DELETE", f"queue/operations/{one}"))["removed"] == 1
    await api.error("DELETE", f"queue/operations/{one}", status=404)
    assert (await api.data("DELETE", "queue/operations")) == {"removed": 2}


async def test_require_connected_flag_refuses_sends_with_409() -> None:
    """With require_connected_for_sends a send on a disconnected instance answers 409."""
    state = SimState()
    state.accounts.add()
    app = build_app(state)
    app[RESOURCE_SETTINGS_KEY].require_connected_for_sends = True
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            api = await open_api(f"http://127.0.0.1:{port}", http, state)
            error = await api.error(
                "POST", "chat/send/text", {"phone": PHONE, "message": "x"}, status=409
            )
            assert error["error_code"] == "NOT_CONNECTED"
            await api.connect()
            await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"})
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------------------ actions


async def test_react_and_remove_reaction_publish_reaction_messages(api: Api) -> None:
    """POST/DELETE chat/react publish reaction Message events referring to the message."""
    await api.connect()
    sent = await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"})
    mid = sent["message_id"]
    await api.data("POST", "chat/react", {"phone": PHONE, "message_id": mid, "reaction": "+1"})
    await api.data("DELETE", "chat/react", {"phone": PHONE, "message_id": mid})
    reactions = [e["message"]["reaction_message"] for e in api.events("Message")[1:]]
    assert [r["text"] for r in reactions] == ["+1", ""]
    assert reactions[0]["key"] == {
        "remote_jid": f"{PHONE}@s.whatsapp.net",
        "from_me": True,
        "id": mid,
    }
    error = await api.error("POST", "chat/react", {"phone": PHONE, "message_id": mid}, status=400)
    assert error["message"].startswith("reaction:")


async def test_presence_validates_state(api: Api) -> None:
    """chat/presence requires a known state value."""
    await api.error("POST", "chat/presence", {"phone": PHONE}, status=400)
    error = await api.error(
        "POST", "chat/presence", {"phone": PHONE, "state": "dancing"}, status=400
    )
    assert error["message"].startswith("state:")
    await api.data(
        "POST", "chat/presence", {"phone": PHONE, "state": "composing", "media": "audio"}
    )


async def test_markread_answers_details_and_publishes_read_receipt(api: Api) -> None:
    """chat/markread answers data.details and publishes a ReadSelf ReadReceipt."""
    await api.connect()
    data = await api.data(
        "POST", "chat/markread", {"id": ["M1", "M2"], "chat": PHONE, "sender": PHONE}
    )
    assert data["details"] == "Mensagem entregue ao destinatario."
    [envelope] = api.envelopes("ReadReceipt")
    assert envelope["data"]["event"]["message_i_ds"] == ["M1", "M2"]
    assert envelope["data"]["state"] == "ReadSelf"
    error = await api.error("POST", "chat/markread", {"id": ["M1"]}, status=400)
    assert error["message"].startswith("chat:")


async def test_poll_vote_accepts_both_spellings_and_checks_options(api: Api) -> None:
    """Votes use `vote` or `selected_options`; unknown options and too many choices are 400."""
    api.lenient()
    poll = await api.data(
        "POST",
        "chat/send/poll",
        {"phone": PHONE, "name": "q", "options": ["a", "b"], "selectable_options_count": 1},
    )
    mid = poll["message_id"]
    await api.data("POST", "chat/poll/vote", {"phone": PHONE, "message_id": mid, "vote": "a"})
    await api.data(
        "POST", "chat/poll/vote", {"phone": PHONE, "message_id": mid, "selected_options": ["b"]}
    )
    await api.error(
        "POST", "chat/poll/vote", {"phone": PHONE, "message_id": mid, "vote": "zzz"}, status=400
    )
    await api.error(
        "POST",
        "chat/poll/vote",
        {"phone": PHONE, "message_id": mid, "vote": ["a", "b"]},
        status=400,
    )
    error = await api.error(
        "POST", "chat/poll/vote", {"phone": PHONE, "message_id": mid}, status=400
    )
    assert error["message"].startswith("vote:")


async def test_edit_and_delete_message(api: Api) -> None:
    """PATCH edits a sent message; DELETE revokes it; unknown ids answer 404."""
    await api.connect()
    mid = (await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"}))["message_id"]
    edited = await api.data("PATCH", f"chat/messages/{mid}", {"message": "y", "phone": PHONE})
    assert edited["message_id"] == mid
    assert api.events("Message")[-1]["message"]["protocol_message"]["edited_message"] == {
        "conversation": "y"
    }
    await api.error("PATCH", f"chat/messages/{mid}", {}, status=400)
    await api.error("PATCH", "chat/messages/NOPE", {"message": "y"}, status=404)
    await api.error(
        "PATCH", f"chat/messages/{mid}", {"message": "y", "phone": "5511888888888"}, status=404
    )
    deleted = await api.data("DELETE", f"chat/messages/{mid}")
    assert deleted["details"] == "Deleted"
    assert api.events("Message")[-1]["message"]["protocol_message"]["type"] == "REVOKE"
    await api.error("DELETE", f"chat/messages/{mid}", status=404)


async def test_deleting_a_queued_message_cancels_it(api: Api) -> None:
    """Deleting a message that is still queued removes it from the queue; nothing is sent."""
    mid = (await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"}))["message_id"]
    assert (await api.data("DELETE", f"chat/messages/{mid}"))["status"] == "canceled"
    assert (await api.data("GET", "queue/messages"))["total"] == 0


@pytest.mark.parametrize("kind", ["image", "video", "audio", "document"])
async def test_downloads_return_base64_and_mimetype(api: Api, kind: str) -> None:
    """chat/download* answers {data: base64, mimetype} for a media node."""
    node = {
        "url": "https://mmg.whatsapp.net/x",
        "direct_path": "/v/x",
        "media_key": "k",
        "mimetype": "application/x-test",
        "file_length": 40,
    }
    data = await api.data("POST", f"chat/download{kind}", node)
    content = base64.b64decode(data["data"])
    if kind == "image":
        assert content.startswith(b"\x89PNG")
        assert data["mimetype"] == "image/png"
    else:
        assert len(content) == 40
        assert data["mimetype"] == "application/x-test"
    error = await api.error("POST", f"chat/download{kind}", {"mimetype": "x"}, status=400)
    assert error["message"].startswith("url:")


async def test_download_of_data_url_returns_its_bytes(api: Api) -> None:
    """A media node whose url is a data URL downloads to exactly those bytes."""
    payload = base64.b64encode(b"hello").decode()
    data = await api.data(
        "POST",
        "chat/downloaddocument",
        {"url": f"data:text/plain;base64,{payload}", "mimetype": "text/plain"},
    )
    assert base64.b64decode(data["data"]) == b"hello"


async def test_delayed_send_waits_for_its_delay() -> None:
    """A send with `delay` stays queued until that many seconds have passed on the clock."""
    clock = ManualClock()
    async with Simulator(clock=clock) as sim, aiohttp.ClientSession() as http:
        api = await open_api(sim.base_url, http, sim.state)
        await api.connect()
        sent = await api.data(
            "POST", "chat/send/text", {"phone": PHONE, "message": "x", "delay": 60}
        )
        assert sent["details"] == "Queued"
        assert (await api.data("GET", "queue/messages"))["total"] == 1
        clock.advance(61)
        assert (await api.data("GET", "queue/messages"))["total"] == 0
        assert api.events("Message")[-1]["info"]["id"] == sent["message_id"]


def test_store_caps_history_queue_and_chats() -> None:
    """The per-instance store forgets the oldest history, queue entries and chats past its caps."""
    store = ResourceStore(ResourceLimits(message_history=2, queue=2, chats=2), lambda: 1.0)
    targets = [parse_target(f"551190000000{i}") for i in range(1, 4)]
    for index, target in enumerate(targets):
        assert target is not None
        mid = f"M{index}"
        store.remember(SentMessage(mid, target, "text", "x", {}, 1.0))
        store.enqueue(store.message_queue, QueueEntry(mid, "text", target, 1.0, 1.0))
        store.touch_chat(target, sender_phone="", sender_name="")
    assert list(store.messages) == ["M1", "M2"]
    assert [entry.entry_id for entry in store.message_queue] == ["M1", "M2"]
    assert store.message_queue.dropped == 1
    assert len(store.chats) == 2
    delivered: list[str] = []
    for entry in store.message_queue:
        entry.on_deliver = lambda e=entry: delivered.append(e.entry_id)
    store.deliver_due(connected=False)
    assert delivered == []
    store.deliver_due(connected=True)
    assert delivered == ["M1", "M2"]
    assert store.messages["M2"].status == "sent"
