"""Simulator resource routes: users, contacts, groups and chats (plain HTTP against `Simulator`)."""

from __future__ import annotations

import base64

from _sim_api import MISSING_PHONE, PHONE, Api

JID = f"{PHONE}@s.whatsapp.net"


# ------------------------------------------------------------------------------ users


async def test_user_check_is_deterministic(api: Api) -> None:
    """user/check answers users[] with exists false for numbers ending in 0."""
    data = await api.data("POST", "user/check", {"phone": [PHONE, MISSING_PHONE]})
    assert data["users"][0] == {
        "query": PHONE,
        "phone": PHONE,
        "exists": True,
        "jid": JID,
        "verified_name": "",
    }
    assert data["users"][1]["exists"] is False
    assert data["users"][1]["jid"] == ""


async def test_user_check_validates_phone(api: Api) -> None:
    """user/check requires phone and rejects malformed numbers, naming the item."""
    error = await api.error("POST", "user/check", {}, status=400)
    assert error["message"].startswith("phone:")
    error = await api.error("POST", "user/check", {"phone": [PHONE, "+55"]}, status=400)
    assert error["message"].startswith("phone[1]:")


async def test_user_info_lists_users(api: Api) -> None:
    """user/info answers one entry per number with profile fields."""
    data = await api.data("POST", "user/info", {"phone": [PHONE]})
    [user] = data["users"]
    assert user["jid"] == JID
    assert user["exists"] is True
    assert user["devices"]


async def test_user_avatar_is_a_real_png(api: Api) -> None:
    """user/avatar answers raw base64 of a PNG plus its mimetype; preview is smaller."""
    full = await api.data("POST", "user/avatar", {"phone": PHONE, "preview": False})
    preview = await api.data("POST", "user/avatar", {"phone": PHONE, "preview": True})
    raw = base64.b64decode(full["base64"])
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    assert full["mimetype"] == "image/png"
    assert len(base64.b64decode(preview["base64"])) < len(raw)
    error = await api.error("POST", "user/avatar", {"phone": PHONE}, status=400)
    assert error["message"].startswith("preview:")
    await api.error("POST", "user/avatar", {"phone": MISSING_PHONE, "preview": True}, status=404)


async def test_contacts_add_and_list(api: Api) -> None:
    """contact/add saves a contact that user/contacts and contact/list both return."""
    added = await api.data(
        "POST", "contact/add", {"phone": PHONE, "first_name": "Ann", "full_name": "Ann Lee"}
    )
    assert added["jid"] == JID
    assert await api.data("GET", "user/contacts") == [added]
    assert await api.data("GET", "contact/list") == [added]
    await api.error("POST", "contact/add", {"first_name": "x"}, status=400)


# ------------------------------------------------------------------------------ groups


async def _create_group(api: Api, **extra: object) -> dict[str, object]:
    body = {"group_name": "Team", "participants": [PHONE, "5511977776666"], **extra}
    group: dict[str, object] = await api.data("POST", "group/create", body)
    return group


async def test_group_create_and_info(api: Api) -> None:
    """group/create returns the group; group/info returns the same metadata."""
    await api.connect()
    group = await _create_group(api, group_description="about")
    assert str(group["jid"]).endswith("@g.us")
    assert group["name"] == "Team"
    assert group["topic"] == "about"
    participants = {p["jid"]: p for p in group["participants"]}  # type: ignore[attr-defined]
    owner = api.state.registry.get(api.instance_id).whatsapp_jid
    assert participants[owner]["is_super_admin"] is True
    assert participants[JID]["is_admin"] is False
    info = await api.data("GET", "group/info", params={"group_id": str(group["jid"])})
    assert info == group


async def test_group_create_accepts_name_alias_and_validates(api: Api) -> None:
    """group/create accepts `name` for `group_name` (lenient) and requires participants."""
    api.lenient()
    group = await api.data("POST", "group/create", {"name": "Alias", "participants": [PHONE]})
    assert group["name"] == "Alias"
    error = await api.error("POST", "group/create", {"participants": [PHONE]}, status=400)
    assert error["message"].startswith("group_name:")
    error = await api.error("POST", "group/create", {"group_name": "x"}, status=400)
    assert error["message"].startswith("participants:")


async def test_group_list_paginates(api: Api) -> None:
    """group/list pages with page and page_size."""
    for _ in range(3):
        await _create_group(api)
    page = await api.data("GET", "group/list", params={"page": "2", "page_size": "2"})
    assert page["total"] == 3
    assert page["total_pages"] == 2
    assert len(page["content"]) == 1
    await api.error("GET", "group/list", params={"page": "0"}, status=400)


async def test_group_unknown_and_missing_id(api: Api) -> None:
    """An unknown group answers 404; a missing group_id answers 400."""
    await api.error("GET", "group/info", params={"group_id": "120363000000000001@g.us"}, status=404)
    error = await api.error("GET", "group/info", status=400)
    assert error["message"].startswith("group_id:")


async def test_group_invite_link_reset(api: Api) -> None:
    """group/invitelink is stable until reset=true re-issues it."""
    group_id = str((await _create_group(api))["jid"])
    first = await api.data("GET", "group/invitelink", params={"group_id": group_id})
    again = await api.data("GET", "group/invitelink", params={"group_id": group_id})
    reset = await api.data(
        "GET", "group/invitelink", params={"group_id": group_id, "reset": "true"}
    )
    assert first["invite_link"].startswith("https://chat.whatsapp.com/")
    assert again == first
    assert reset["invite_link"] != first["invite_link"]


async def test_group_mutations(api: Api) -> None:
    """Photo, name, description and settings change the stored group."""
    group_id = str((await _create_group(api))["jid"])
    photo = await api.data(
        "POST", "group/photo", {"group_id": group_id, "image": "https://example.com/p.jpg"}
    )
    assert photo["picture_id"]
    await api.error("POST", "group/photo", {"group_id": group_id}, status=400)
    await api.data("POST", "group/name", {"group_id": group_id, "name": "Renamed"})
    await api.data("POST", "group/description", {"group_id": group_id, "description": "d2"})
    await api.data(
        "POST",
        "group/settings",
        {"group_id": group_id, "admin_only_message": True, "delay_message": 86400},
    )
    info = await api.data("GET", "group/info", params={"group_id": group_id})
    assert (info["name"], info["topic"], info["picture_id"]) == (
        "Renamed",
        "d2",
        photo["picture_id"],
    )
    assert info["admin_only_message"] is True
    assert info["admin_only_settings"] is False
    assert info["delay_message"] == 86400
    error = await api.error("POST", "group/name", {"group_id": group_id}, status=400)
    assert error["message"].startswith("name:")


async def test_group_admins(api: Api) -> None:
    """add-admin promotes members, remove-admin demotes; non-members are rejected."""
    group_id = str((await _create_group(api))["jid"])
    body = {"group_id": group_id, "participants": [PHONE]}
    promoted = await api.data("POST", "group/add-admin", body)
    assert {p["jid"]: p["is_admin"] for p in promoted["participants"]}[JID] is True
    demoted = await api.data("POST", "group/remove-admin", body)
    assert {p["jid"]: p["is_admin"] for p in demoted["participants"]}[JID] is False
    error = await api.error(
        "POST",
        "group/add-admin",
        {"group_id": group_id, "participants": ["5511911112222"]},
        status=400,
    )
    assert error["message"].startswith("participants:")


# ------------------------------------------------------------------------------ chats


async def test_chat_appears_after_a_send_with_documented_types(api: Api) -> None:
    """Sending creates the chat; GET chats/{phone} is the flat object with documented types."""
    await api.error("GET", f"chats/{PHONE}", status=404)
    await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"})
    chat = await api.flat("GET", f"chats/{PHONE}")
    assert chat["jid"] == JID
    assert chat["phone"] == PHONE
    assert chat["unread"] == "0"
    assert chat["messages_unread"] == 0
    assert chat["is_muted"] == "0"
    for key in (
        "archived",
        "pinned",
        "marked_as_unread",
        "is_marked_spam",
        "is_group",
        "is_group_announcement",
    ):
        assert isinstance(chat[key], bool), key
    for key in ("last_message_timestamp_ms", "mute_end_time"):
        assert isinstance(chat[key], int), key
    assert isinstance(chat["last_message_time"], str)
    for key in ("name", "last_message_user_name", "last_message_user_phone", "community_name"):
        assert isinstance(chat[key], str), key
    assert await api.flat("GET", f"chats/{JID}") == chat


async def test_chat_actions_answer_flat_status_and_change_state(api: Api) -> None:
    """Every chat action answers flat {"status":"ok"} and the chat object reflects it."""
    await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"})
    for action in ("archive", "pin", "unread", "mute"):
        assert await api.flat("POST", f"chats/{PHONE}/{action}") == {"status": "ok"}
    chat = await api.flat("GET", f"chats/{PHONE}")
    assert (chat["archived"], chat["pinned"], chat["marked_as_unread"]) == (True, True, True)
    assert chat["is_muted"] == "1"
    assert chat["mute_end_time"] == -1
    for action in ("unarchive", "unpin", "read", "unmute"):
        assert await api.flat("POST", f"chats/{PHONE}/{action}") == {"status": "ok"}
    chat = await api.flat("GET", f"chats/{PHONE}")
    assert (chat["archived"], chat["pinned"], chat["marked_as_unread"]) == (False, False, False)
    assert chat["is_muted"] == "0"
    await api.flat("POST", f"chats/{PHONE}/mute", {"duration_seconds": 3600})
    assert (await api.flat("GET", f"chats/{PHONE}"))["is_muted"] == "1"


async def test_chat_expiration_clear_and_delete(api: Api) -> None:
    """expiration validates its value; clear keeps the chat; delete removes it."""
    mid = (await api.data("POST", "chat/send/text", {"phone": PHONE, "message": "x"}))["message_id"]
    assert await api.flat("PUT", f"chats/{PHONE}/expiration", {"expiration": "7_DAYS"}) == {
        "status": "ok"
    }
    assert (await api.flat("GET", f"chats/{PHONE}"))["expiration"] == "7_DAYS"
    error = await api.error(
        "PUT", f"chats/{PHONE}/expiration", {"expiration": "1_YEAR"}, status=400
    )
    assert error["message"].startswith("expiration:")
    assert await api.flat("POST", f"chats/{PHONE}/clear", {"delete_media": True}) == {
        "status": "ok"
    }
    await api.error("PATCH", f"chat/messages/{mid}", {"message": "y"}, status=404)
    await api.flat("GET", f"chats/{PHONE}")
    assert await api.flat("DELETE", f"chats/{PHONE}") == {"status": "ok"}
    await api.error("GET", f"chats/{PHONE}", status=404)
    await api.error("POST", f"chats/{PHONE}/archive", status=404)


async def test_chat_list_paginates_pinned_first(api: Api) -> None:
    """GET chats pages chat objects, pinned chats first."""
    phones = ["5511911111111", "5511922222222", "5511933333333"]
    for phone in phones:
        await api.data("POST", "chat/send/text", {"phone": phone, "message": "x"})
    await api.flat("POST", f"chats/{phones[0]}/pin")
    page = await api.data("GET", "chats", params={"page": "1", "page_size": "2"})
    assert page["total"] == 3
    assert [chat["phone"] for chat in page["content"]] == [phones[0], phones[2]]


async def test_group_chat_is_a_group(api: Api) -> None:
    """Creating a group creates its chat with is_group true and the group name."""
    group = await _create_group(api)
    chat = await api.flat("GET", f"chats/{group['jid']}")
    assert chat["is_group"] is True
    assert chat["name"] == "Team"
