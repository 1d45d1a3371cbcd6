"""Users and contacts (§2.7), groups (§2.8) and chats (§2.12) routes of the simulator.

Existence on WhatsApp is deterministic: a number ending in 0 is "not on WhatsApp"
(`number_exists`). Chats appear when the instance sends to (or creates) them. Chat routes answer
flat bodies as documented: ``GET chats/{phone}`` the chat object, every chat action
``{"status": "ok"}``; everything else uses the envelope.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from aiohttp import web

from ._http import SimError, flat, ok, read_json
from ._resources_common import Ctx, context
from ._resources_store import (
    Chat,
    Group,
    Target,
    avatar_png,
    b64,
    number_exists,
    parse_target,
)
from ._validate import (
    invalid,
    opt_bool,
    opt_int,
    opt_str,
    page_of,
    req_str,
    req_str_list,
    req_target,
)

__all__ = ["routes"]

_EXPIRATIONS = {"24_HOURS": 86400, "7_DAYS": 7 * 86400, "90_DAYS": 90 * 86400, "OFF": 0}


# ------------------------------------------------------------------------------ users


def _user_targets(body: dict[str, Any]) -> list[tuple[str, Target]]:
    phones = req_str_list(body, "phone", allow_single=True)
    parsed = []
    for index, phone in enumerate(phones):
        target = parse_target(phone)
        if target is None or target.is_group:
            raise invalid(f"phone[{index}]", "must be digits with country code (no '+') or a JID")
        parsed.append((phone, target))
    return parsed


async def user_check(request: web.Request) -> web.Response:
    """``POST user/check``: which numbers are on WhatsApp."""
    await context(request)
    body = await read_json(request)
    users = []
    for query, target in _user_targets(body):
        exists = number_exists(target.phone)
        users.append(
            {
                "query": query,
                "phone": target.phone,
                "exists": exists,
                "jid": target.jid if exists else "",
                "verified_name": "",
            }
        )
    return ok({"users": users})


async def user_info(request: web.Request) -> web.Response:
    """``POST user/info``: profile details of numbers on WhatsApp."""
    await context(request)
    body = await read_json(request)
    users = []
    for _, target in _user_targets(body):
        exists = number_exists(target.phone)
        users.append(
            {
                "phone": target.phone,
                "jid": target.jid,
                "exists": exists,
                "verified_name": "",
                "status": "Hey there! I am using WhatsApp." if exists else "",
                "picture_id": str(int(target.phone) % 10**10) if exists else "",
                "devices": [f"{target.phone}:0@s.whatsapp.net"] if exists else [],
            }
        )
    return ok({"users": users})


async def user_avatar(request: web.Request) -> web.Response:
    """``POST user/avatar``: the profile picture as raw base64 (a real PNG)."""
    await context(request)
    body = await read_json(request)
    target = req_target(body)
    preview = body.get("preview")
    if preview is None:
        raise invalid("preview", "is required")
    if not isinstance(preview, bool):
        raise invalid("preview", "must be a boolean")
    if not target.is_group and not number_exists(target.phone):
        raise SimError(404, "USER_NOT_FOUND", "number is not on WhatsApp")
    image = avatar_png(target.jid, 32 if preview else 96)
    return ok({"base64": b64(image), "mimetype": "image/png", "id": str(len(image))})


def _contacts(ctx: Ctx) -> list[dict[str, Any]]:
    return sorted(ctx.store.contacts.values(), key=lambda contact: str(contact["jid"]))


async def user_contacts(request: web.Request) -> web.Response:
    """``GET user/contacts`` and ``GET contact/list``: the account's saved contacts."""
    ctx = await context(request)
    return ok(_contacts(ctx))


async def contact_add(request: web.Request) -> web.Response:
    """``POST contact/add``: save (or update) a contact."""
    ctx = await context(request)
    body = await read_json(request)
    target = req_target(body)
    if target.is_group:
        raise invalid("phone", "must be a user, not a group")
    first = opt_str(body, "first_name") or ""
    full = opt_str(body, "full_name") or first
    contact = {
        "jid": target.jid,
        "phone": target.phone,
        "first_name": first,
        "full_name": full,
        "push_name": full,
        "business_name": "",
        "found": number_exists(target.phone),
    }
    ctx.store.contacts[target.jid] = contact
    chat = ctx.store.chats.get(target.jid)
    if chat is not None:
        chat.name = full
    return ok(contact)


# ------------------------------------------------------------------------------ groups


def _group_id(value: Any, field: str = "group_id") -> str:
    if value is None:
        raise invalid(field, "is required")
    target = parse_target(value) if isinstance(value, str) else None
    if target is None and isinstance(value, str) and value.isdigit():
        target = parse_target(value + "@g.us")
    if target is None or not target.is_group:
        raise invalid(field, "must be a group id (…@g.us)")
    return target.jid


def _group(ctx: Ctx, value: Any) -> Group:
    group = ctx.store.groups.get(_group_id(value))
    if group is None:
        raise SimError(404, "GROUP_NOT_FOUND", "group not found")
    return group


async def _group_request(request: web.Request) -> tuple[Ctx, dict[str, Any], Group]:
    """The context, the JSON body and the ``group_id`` group of a group route."""
    ctx = await context(request)
    body = await read_json(request)
    return ctx, body, _group(ctx, body.get("group_id"))


def _participant_jids(body: dict[str, Any]) -> list[str]:
    jids = []
    for index, value in enumerate(req_str_list(body, "participants")):
        target = parse_target(value)
        if target is None or target.is_group:
            raise invalid(f"participants[{index}]", "must be a phone number or a user JID")
        jids.append(target.jid)
    return jids


def _image_field(body: dict[str, Any], name: str) -> str:
    value = req_str(body, name)
    if not value.startswith(("https://", "http://", "data:image/")):
        raise invalid(name, "must be an http(s) URL or an image data URL")
    return value


async def group_create(request: web.Request) -> web.Response:
    """``POST group/create``: create a group (``group_name`` or ``name``)."""
    ctx = await context(request)
    body = await read_json(request)
    name = req_str(body, "group_name", "name")
    if len(name) > 100:
        raise invalid("group_name", "must be at most 100 characters")
    participants = _participant_jids(body)
    description = opt_str(body, "group_description", "description") or ""
    image = opt_str(body, "group_image")
    if image is not None:
        _image_field(body, "group_image")
    ctx.require_connected()
    now = ctx.state.clock()
    jid = f"120363{secrets.randbelow(10**12):012d}@g.us"
    owner = ctx.own_jid or f"{ctx.instance.id}@s.whatsapp.net"
    members = {owner: True}
    for participant in participants:
        members.setdefault(participant, False)
    group = Group(jid, name, owner, now, members, topic=description)
    group.invite_code = secrets.token_urlsafe(16)[:22]
    if image:
        group.picture_id = str(int(now))
    ctx.store.groups[jid] = group
    ctx.store.touch_chat(
        Target(jid, jid.split("@")[0], True), sender_phone=ctx.own_phone, sender_name=ctx.own_name
    )
    ctx.state.publish(
        ctx.instance,
        "GroupParticipantsAdd",
        {"jid": jid, "participants": [p for p in members if p != owner], "sender": owner},
    )
    return ok(group.to_dict())


async def group_list(request: web.Request) -> web.Response:
    """``GET group/list``: the instance's groups, newest first, paginated."""
    ctx = await context(request)
    groups = sorted(ctx.store.groups.values(), key=lambda g: g.created_at, reverse=True)
    return ok(page_of(request, [group.to_dict() for group in groups]))


async def group_info(request: web.Request) -> web.Response:
    """``GET group/info?group_id=``: one group's metadata."""
    ctx = await context(request)
    return ok(_group(ctx, request.query.get("group_id")).to_dict())


async def group_invite_link(request: web.Request) -> web.Response:
    """``GET group/invitelink?group_id=&reset=``: the invite link (re-issued when ``reset``)."""
    ctx = await context(request)
    group = _group(ctx, request.query.get("group_id"))
    reset = request.query.get("reset", "false").lower()
    if reset not in ("true", "false", "1", "0", ""):
        raise invalid("reset", "must be true or false")
    if reset in ("true", "1"):
        group.invite_code = secrets.token_urlsafe(16)[:22]
    return ok(
        {"group_id": group.jid, "invite_link": f"https://chat.whatsapp.com/{group.invite_code}"}
    )


async def group_photo(request: web.Request) -> web.Response:
    """``POST group/photo``: set the group picture."""
    ctx, body, group = await _group_request(request)
    _image_field(body, "image")
    group.picture_id = str(int(ctx.state.clock() * 1000)) + os.urandom(2).hex()
    return ok({"group_id": group.jid, "picture_id": group.picture_id})


async def group_name(request: web.Request) -> web.Response:
    """``POST group/name``: rename the group."""
    ctx, body, group = await _group_request(request)
    name = req_str(body, "name", "group_name")
    if len(name) > 100:
        raise invalid("name", "must be at most 100 characters")
    group.name = name
    chat = ctx.store.chats.get(group.jid)
    if chat is not None:
        chat.name = name
    return ok(group.to_dict())


async def group_description(request: web.Request) -> web.Response:
    """``POST group/description``: set the group description (topic)."""
    _, body, group = await _group_request(request)
    description = opt_str(body, "description")
    if description is None:
        raise invalid("description", "is required")
    group.topic = description
    return ok(group.to_dict())


async def group_settings(request: web.Request) -> web.Response:
    """``POST group/settings``: announcement mode, locked settings, disappearing timer."""
    _, body, group = await _group_request(request)
    announce = opt_bool(body, "admin_only_message")
    locked = opt_bool(body, "admin_only_settings")
    delay = opt_int(body, "delay_message", minimum=0)
    if announce is not None:
        group.admin_only_message = announce
    if locked is not None:
        group.admin_only_settings = locked
    if delay is not None:
        group.delay_message = delay
    return ok(group.to_dict())


async def _set_admins(request: web.Request, admin: bool) -> web.Response:
    _, body, group = await _group_request(request)
    jids = _participant_jids(body)
    for jid in jids:
        if jid not in group.participants:
            raise invalid("participants", f"{jid} is not a member of the group")
        if not admin and jid == group.owner_jid:
            raise invalid("participants", "the group creator cannot be demoted")
    for jid in jids:
        group.participants[jid] = admin
    return ok(group.to_dict())


async def group_add_admin(request: web.Request) -> web.Response:
    """``POST group/add-admin``: promote members to admin."""
    return await _set_admins(request, True)


async def group_remove_admin(request: web.Request) -> web.Response:
    """``POST group/remove-admin``: demote admins to members."""
    return await _set_admins(request, False)


# ------------------------------------------------------------------------------ chats


def _chat(ctx: Ctx, request: web.Request) -> Chat:
    raw = request.match_info["phone"]
    target = parse_target(raw)
    if target is None:
        raise invalid("phone", "must be digits with country code (no '+'), a group id or a JID")
    chat = ctx.store.chats.get(target.jid)
    if chat is None:
        raise SimError(404, "CHAT_NOT_FOUND", "chat not found")
    return chat


async def chat_list(request: web.Request) -> web.Response:
    """``GET chats``: chats, pinned first then most recent, paginated."""
    ctx = await context(request)
    now = ctx.state.clock()
    # The store keeps chats in activity order (most recent last); pinned ones go first.
    ordered = list(reversed(ctx.store.chats.values()))
    chats = [c for c in ordered if c.pinned] + [c for c in ordered if not c.pinned]
    return ok(page_of(request, [chat.to_dict(now) for chat in chats]))


async def chat_get(request: web.Request) -> web.Response:
    """``GET chats/{phone}``: the flat chat object."""
    ctx = await context(request)
    return flat(_chat(ctx, request).to_dict(ctx.state.clock()))


def _status_ok() -> web.Response:
    return flat({"status": "ok"})


def _flag_action(attribute: str, value: bool) -> Any:
    async def handler(request: web.Request) -> web.Response:
        ctx = await context(request)
        chat = _chat(ctx, request)
        setattr(chat, attribute, value)
        return _status_ok()

    handler.__doc__ = f"``POST chats/{{phone}}/...``: set ``{attribute}`` to {value}."
    return handler


async def chat_mute(request: web.Request) -> web.Response:
    """``POST chats/{phone}/mute``: mute for ``duration_seconds`` (absent = forever)."""
    ctx = await context(request)
    body = await read_json(request, required=False)
    chat = _chat(ctx, request)
    duration = opt_int(body, "duration_seconds", minimum=1)
    chat.mute_end_time = -1 if duration is None else int(ctx.state.clock()) + duration
    return _status_ok()


async def chat_unmute(request: web.Request) -> web.Response:
    """``POST chats/{phone}/unmute``."""
    ctx = await context(request)
    _chat(ctx, request).mute_end_time = 0
    return _status_ok()


async def chat_read(request: web.Request) -> web.Response:
    """``POST chats/{phone}/read``: clear the unread count and the unread mark."""
    ctx = await context(request)
    chat = _chat(ctx, request)
    chat.unread_count = 0
    chat.marked_as_unread = False
    return _status_ok()


async def _emptied_chat(request: web.Request) -> tuple[Ctx, Chat]:
    """The chat of a clear or delete route, its messages dropped (``delete_media`` is checked)."""
    ctx = await context(request)
    body = await read_json(request, required=False)
    opt_bool(body, "delete_media")
    chat = _chat(ctx, request)
    ctx.store.drop_chat_messages(chat.target.jid)
    return ctx, chat


async def chat_clear(request: web.Request) -> web.Response:
    """``POST chats/{phone}/clear``: forget the chat's messages, keep the chat."""
    _, chat = await _emptied_chat(request)
    chat.unread_count = 0
    chat.last_message_user_name = chat.last_message_user_phone = ""
    return _status_ok()


async def chat_delete(request: web.Request) -> web.Response:
    """``DELETE chats/{phone}``: delete the chat and its messages."""
    ctx, chat = await _emptied_chat(request)
    ctx.store.chats.pop(chat.target.jid, None)
    return _status_ok()


async def chat_expiration(request: web.Request) -> web.Response:
    """``PUT chats/{phone}/expiration``: disappearing messages (``24_HOURS`` … ``OFF``)."""
    ctx = await context(request)
    body = await read_json(request)
    expiration = req_str(body, "expiration")
    if expiration not in _EXPIRATIONS:
        raise invalid("expiration", f"must be one of {', '.join(_EXPIRATIONS)}")
    chat = _chat(ctx, request)
    chat.expiration = expiration
    group = ctx.store.groups.get(chat.target.jid)
    if group is not None:
        group.delay_message = _EXPIRATIONS[expiration]
    return _status_ok()


_BASE = "/instances/{id}"
_CHAT = _BASE + "/chats/{phone}"
#: The user, contact, group and chat routes, added by `build_app`.
routes = [
    web.post(f"{_BASE}/user/check", user_check),
    web.post(f"{_BASE}/user/info", user_info),
    web.post(f"{_BASE}/user/avatar", user_avatar),
    web.get(f"{_BASE}/user/contacts", user_contacts),
    web.get(f"{_BASE}/contact/list", user_contacts),
    web.post(f"{_BASE}/contact/add", contact_add),
    web.post(f"{_BASE}/group/create", group_create),
    web.get(f"{_BASE}/group/list", group_list),
    web.get(f"{_BASE}/group/info", group_info),
    web.get(f"{_BASE}/group/invitelink", group_invite_link),
    web.post(f"{_BASE}/group/photo", group_photo),
    web.post(f"{_BASE}/group/name", group_name),
    web.post(f"{_BASE}/group/description", group_description),
    web.post(f"{_BASE}/group/settings", group_settings),
    web.post(f"{_BASE}/group/add-admin", group_add_admin),
    web.post(f"{_BASE}/group/remove-admin", group_remove_admin),
    web.get(f"{_BASE}/chats", chat_list),
    web.get(_CHAT, chat_get),
    web.delete(_CHAT, chat_delete),
    web.post(f"{_CHAT}/archive", _flag_action("archived", True)),
    web.post(f"{_CHAT}/unarchive", _flag_action("archived", False)),
    web.post(f"{_CHAT}/pin", _flag_action("pinned", True)),
    web.post(f"{_CHAT}/unpin", _flag_action("pinned", False)),
    web.post(f"{_CHAT}/unread", _flag_action("marked_as_unread", True)),
    web.post(f"{_CHAT}/mute", chat_mute),
    web.post(f"{_CHAT}/unmute", chat_unmute),
    web.post(f"{_CHAT}/read", chat_read),
    web.post(f"{_CHAT}/clear", chat_clear),
    web.put(f"{_CHAT}/expiration", chat_expiration),
]
