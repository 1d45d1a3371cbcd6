"""Chat routes (§2.6: sends and message actions) and queue routes (§2.9) of the simulator.

Every send answers the envelope with ``data.message_id``, ``data.details`` (``"Sent"`` when the
instance is connected and the send had no delay, else ``"Queued"``), ``data.status`` and
``data.timestamp``. Delivery publishes a ``Message`` event with ``info.is_from_me`` true. A client
``id`` already used by a remembered message answers 409 ``DUPLICATE_MESSAGE_ID``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import os
import re
from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web

from ._http import SimError, ok, read_json
from ._resources_common import Ctx, context
from ._resources_store import (
    QueueEntry,
    SentMessage,
    Target,
    avatar_png,
    b64,
    new_message_id,
    parse_target,
    rfc3339,
)
from ._validate import (
    invalid,
    opt_bool,
    opt_int,
    opt_str,
    page_of,
    req_number,
    req_str,
    req_str_list,
    req_target,
)

__all__ = ["routes"]

_DATA_URL_RE = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.-]+)*);base64,(.*)$", re.S)
_PRESENCE_STATES = frozenset({"composing", "paused", "available", "unavailable", "recording"})
_MARKREAD_DETAILS = "Mensagem entregue ao destinatario."

#: Default MIME type per media kind (when neither a data URL nor a file extension tells).
_DEFAULT_MIME = {
    "image": "image/jpeg",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/octet-stream",
    "video": "video/mp4",
    "sticker": "image/webp",
    "gif": "video/mp4",
}

Builder = Callable[[dict[str, Any], str], tuple[str | None, dict[str, Any], dict[str, Any]]]


# ------------------------------------------------------------------------------ media fields


def _media(body: dict[str, Any], kind: str, *names: str) -> dict[str, Any]:
    """Validate a media field (public URL or base64 data URL) and describe it as a media node."""
    source = req_str(body, *names)
    field = next(name for name in names if body.get(name) is not None)
    node: dict[str, Any] = {}
    if source.startswith("data:"):
        match = _DATA_URL_RE.match(source)
        if match is None:
            raise invalid(field, "data URL must look like data:<mime>;base64,<data>")
        try:
            raw = base64.b64decode(match.group(3), validate=True)
        except (binascii.Error, ValueError):
            raise invalid(field, "data URL payload is not valid base64") from None
        node["mimetype"] = match.group(1) or _DEFAULT_MIME[kind]
        node["file_length"] = len(raw)
        node["file_sha256"] = b64(hashlib.sha256(raw).digest())
        # The payload is not echoed into events; a CDN-like URL stands for it.
        node["url"] = f"https://mmg.whatsapp.net/sim/{hashlib.sha1(raw).hexdigest()}"
    elif source.startswith(("https://", "http://")):
        guessed, _ = mimetypes.guess_type(source.split("?", 1)[0])
        node["mimetype"] = guessed or _DEFAULT_MIME[kind]
        node["url"] = source
    else:
        raise invalid(field, "must be an http(s) URL or a base64 data URL")
    node["direct_path"] = "/v/t62/sim/" + os.urandom(6).hex()
    node["media_key"] = b64(os.urandom(32))
    return node


# ------------------------------------------------------------------------------ builders
# Each builder validates the kind-specific fields and returns (text, message node, info extras).


def _text(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    text = req_str(body, "message")
    return text, {"conversation": text}, {"type": "text"}


def _media_builder(kind: str, node_key: str, *, caption: bool = True) -> Builder:
    def build(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
        node = _media(body, kind, kind, f"{kind}_url")
        text = opt_str(body, "caption") if caption else None
        if text:
            node["caption"] = text
        media_type = kind
        if kind == "audio":
            ptt = opt_bool(body, "ptt")
            node["ptt"] = bool(ptt)
            media_type = "ptt" if ptt else "audio"
        elif kind == "document":
            name = opt_str(body, "file_name") or "file"
            node["file_name"] = name
            node["title"] = name
        elif kind == "gif":
            node["gif_playback"] = True
        return text, {node_key: node}, {"type": "media", "media_type": media_type}

    return build


def _location(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    node: dict[str, Any] = {
        "degrees_latitude": req_number(body, "latitude", -90, 90),
        "degrees_longitude": req_number(body, "longitude", -180, 180),
    }
    for key in ("name", "address"):
        value = opt_str(body, key)
        if value:
            node[key] = value
    return None, {"location_message": node}, {"type": "media", "media_type": "location"}


def _contact(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    name = opt_str(body, "contact_name") or ""
    phone = opt_str(body, "contact_phone") or ""
    if phone and parse_target(phone) is None:
        raise invalid("contact_phone", "must be digits with country code (no '+')")
    vcard = opt_str(body, "vcard") or (
        f"BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nTEL;type=CELL;waid={phone}:+{phone}\nEND:VCARD"
    )
    node = {"display_name": name, "vcard": vcard}
    return None, {"contact_message": node}, {"type": "media", "media_type": "vcard"}


def _buttons(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    text = req_str(body, "message")
    buttons = body.get("buttons")
    if buttons is None:
        raise invalid("buttons", "is required")
    if not isinstance(buttons, list) or not buttons:
        raise invalid("buttons", "must be a non-empty array")
    rendered = []
    for index, button in enumerate(buttons):
        if not isinstance(button, dict):
            raise invalid(f"buttons[{index}]", "must be an object")
        rendered.append(
            {
                "button_id": req_str(button, "id"),
                "button_text": {"display_text": req_str(button, "text")},
                "type": 1,
            }
        )
    node = {"content_text": text, "footer_text": opt_str(body, "footer") or "", "buttons": rendered}
    return text, {"buttons_message": node}, {"type": "text"}


def _list(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    node: dict[str, Any] = {
        "title": req_str(body, "title"),
        "description": req_str(body, "description"),
        "button_text": req_str(body, "button_text"),
        "footer_text": opt_str(body, "footer") or "",
    }
    sections = body.get("sections")
    if sections is None:
        raise invalid("sections", "is required")
    if not isinstance(sections, list) or not sections:
        raise invalid("sections", "must be a non-empty array")
    rendered = []
    for s_index, section in enumerate(sections):
        where = f"sections[{s_index}]"
        if not isinstance(section, dict):
            raise invalid(where, "must be an object")
        title = req_str(section, "title")
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise invalid(f"{where}.rows", "must be a non-empty array")
        out_rows = []
        for r_index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise invalid(f"{where}.rows[{r_index}]", "must be an object")
            out_rows.append(
                {
                    "row_id": req_str(row, "id"),
                    "title": req_str(row, "title"),
                    "description": opt_str(row, "description") or "",
                }
            )
        rendered.append({"title": title, "rows": out_rows})
    node["sections"] = rendered
    return node["description"], {"list_message": node}, {"type": "text"}


def _link(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    # Go/.NET send message + link_url + link_description; TypeScript sends link + description.
    url = opt_str(body, "link_url", "link") or ""
    text = opt_str(body, "message") or url
    node: dict[str, Any] = {
        "text": text,
        "matched_text": url,
        "title": opt_str(body, "title") or "",
        "description": opt_str(body, "link_description", "description") or "",
    }
    return text, {"extended_text_message": node}, {"type": "text"}


def _poll(body: dict[str, Any], _mid: str) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    name = req_str(body, "name")
    options = req_str_list(body, "options")
    if len(set(options)) != len(options):
        raise invalid("options", "must not repeat an option")
    count = opt_int(body, "selectable_options_count", minimum=0) or 0
    if count > len(options):
        raise invalid("selectable_options_count", "must not exceed the number of options")
    for flag in ("hide_participant_names", "allow_add_option"):
        opt_bool(body, flag)
    opt_str(body, "end_time")
    node = {
        "name": name,
        "options": [{"option_name": option} for option in options],
        "selectable_options_count": count,
    }
    return name, {"poll_creation_message": node}, {"type": "poll"}


_BUILDERS: dict[str, Builder] = {
    "text": _text,
    "image": _media_builder("image", "image_message"),
    "audio": _media_builder("audio", "audio_message", caption=False),
    "document": _media_builder("document", "document_message"),
    "video": _media_builder("video", "video_message"),
    "sticker": _media_builder("sticker", "sticker_message", caption=False),
    "gif": _media_builder("gif", "video_message"),
    "location": _location,
    "contact": _contact,
    "buttons": _buttons,
    "list": _list,
    "link": _link,
    "poll": _poll,
}


# ------------------------------------------------------------------------------ events


def _info(ctx: Ctx, message_id: str, target: Target, extras: dict[str, Any]) -> dict[str, Any]:
    info = {
        "id": message_id,
        "chat": target.jid,
        "sender": ctx.own_jid,
        "is_from_me": True,
        "is_group": target.is_group,
        "push_name": ctx.own_name,
        "timestamp": rfc3339(ctx.state.clock()),
        "type": "text",
    }
    info.update(extras)
    return info


def _publish_message(
    ctx: Ctx, message_id: str, target: Target, node: dict[str, Any], extras: dict[str, Any]
) -> Callable[[], None]:
    """A delivery callback publishing an outgoing ``Message`` event (sender known at delivery)."""

    def deliver() -> None:
        event = {"info": _info(ctx, message_id, target, extras), "message": node}
        ctx.state.publish(ctx.instance, "Message", event)

    return deliver


def _common_options(body: dict[str, Any], ctx: Ctx) -> tuple[str | None, float]:
    """Validate the optional fields every send accepts; returns (client id, delay seconds)."""
    client_id = opt_str(body, "id")
    if client_id is not None:
        if not client_id.strip():
            raise invalid("id", "must be a non-empty string")
        if client_id in ctx.store.messages:
            raise SimError(409, "DUPLICATE_MESSAGE_ID", "id: a message with this id exists")
    delay = body.get("delay")
    if delay is None:
        delay = 0.0
    elif isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 86400:
        raise invalid("delay", "must be a number of seconds between 0 and 86400")
    mentioned = body.get("mentioned_ids")
    if mentioned is not None and (
        not isinstance(mentioned, list) or not all(isinstance(m, str) for m in mentioned)
    ):
        raise invalid("mentioned_ids", "must be an array of strings")
    opt_str(body, "reply_to_message_id")
    return client_id, float(delay)


def _context_info(body: dict[str, Any], node: dict[str, Any]) -> None:
    """Attach mentions / quoted message to the node (as WhatsApp's ``context_info``)."""
    mentioned = body.get("mentioned_ids")
    reply_to = body.get("reply_to_message_id")
    if not mentioned and not reply_to:
        return
    context_info: dict[str, Any] = {}
    if mentioned:
        context_info["mentioned_jid"] = list(mentioned)
    if reply_to:
        context_info["stanza_id"] = reply_to
    key = next(iter(node))
    if key == "conversation":
        node["extended_text_message"] = {"text": node.pop("conversation")}
        key = "extended_text_message"
    node[key]["context_info"] = context_info


def _receipt(ctx: Ctx, message_id: str, queued: bool) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "details": "Queued" if queued else "Sent",
        "status": "queued" if queued else "sent",
        "timestamp": rfc3339(ctx.state.clock()),
    }


# ------------------------------------------------------------------------------ send routes


def _send_handler(kind: str) -> Callable[[web.Request], Any]:
    build = _BUILDERS[kind]

    async def handler(request: web.Request) -> web.Response:
        ctx = await context(request)
        body = await read_json(request)
        target = req_target(body)
        client_id, delay = _common_options(body, ctx)
        message_id = client_id or new_message_id()
        text, node, extras = build(body, message_id)
        _context_info(body, node)
        ctx.require_connected()
        now = ctx.state.clock()
        store = ctx.store
        sent = SentMessage(message_id, target, kind, text, node, now)
        if kind == "poll":
            sent.poll_options = [o["option_name"] for o in node["poll_creation_message"]["options"]]
            sent.selectable_count = node["poll_creation_message"]["selectable_options_count"]
        store.remember(sent)
        store.touch_chat(target, sender_phone=ctx.own_phone, sender_name=ctx.own_name)
        entry = QueueEntry(
            message_id,
            kind,
            target,
            now,
            now + delay,
            on_deliver=_publish_message(ctx, message_id, target, node, extras),
        )
        store.enqueue(store.message_queue, entry)
        store.deliver_due(ctx.instance.delivering)
        if delay > 0 and ctx.connected:
            ctx.deliver_later(delay)
        return ok(_receipt(ctx, message_id, sent.status == "queued"))

    return handler


# ------------------------------------------------------------------------------ operations


def _operation(
    ctx: Ctx,
    kind: str,
    target: Target,
    *,
    message_id: str | None = None,
    on_deliver: Callable[[], None] | None = None,
) -> QueueEntry:
    """Queue a non-message action and deliver it at once when the instance is connected."""
    ctx.require_connected()
    now = ctx.state.clock()
    entry = QueueEntry(
        "op_" + os.urandom(8).hex(), kind, target, now, now, message_id, on_deliver=on_deliver
    )
    ctx.store.enqueue(ctx.store.operation_queue, entry)
    ctx.store.deliver_due(ctx.instance.delivering)
    return entry


def _op_receipt(ctx: Ctx, entry: QueueEntry, details: str, **extra: Any) -> dict[str, Any]:
    queued = ctx.store.operation_queue.get(entry.entry_id) is not None
    body = {
        "details": details if not queued else "Queued",
        "status": "queued" if queued else "sent",
        "operation_id": entry.entry_id,
        "timestamp": rfc3339(ctx.state.clock()),
    }
    body.update(extra)
    return body


def _message_key(ctx: Ctx, target: Target, message_id: str) -> dict[str, Any]:
    sent = ctx.store.messages.get(message_id)
    return {"remote_jid": target.jid, "from_me": sent is not None, "id": message_id}


async def _react(request: web.Request, *, remove: bool) -> web.Response:
    ctx = await context(request)
    body = await read_json(request)
    target = req_target(body)
    message_id = req_str(body, "message_id")
    reaction = "" if remove else req_str(body, "reaction")
    ctx.require_connected()
    sent = ctx.store.messages.get(message_id)
    if sent is not None:
        if remove:
            sent.reactions.pop(ctx.own_jid, None)
        else:
            sent.reactions[ctx.own_jid] = reaction
    reaction_id = new_message_id()
    node = {
        "reaction_message": {
            "key": _message_key(ctx, target, message_id),
            "text": reaction,
            "sender_timestamp_ms": int(ctx.state.clock() * 1000),
        }
    }
    entry = _operation(
        ctx,
        "unreact" if remove else "react",
        target,
        message_id=message_id,
        on_deliver=_publish_message(ctx, reaction_id, target, node, {"type": "reaction"}),
    )
    return ok(_op_receipt(ctx, entry, "Sent", message_id=reaction_id))


async def react(request: web.Request) -> web.Response:
    """``POST chat/react``: react to a message with an emoji."""
    return await _react(request, remove=False)


async def unreact(request: web.Request) -> web.Response:
    """``DELETE chat/react``: remove the own reaction from a message."""
    return await _react(request, remove=True)


async def presence(request: web.Request) -> web.Response:
    """``POST chat/presence``: typing / recording / paused / available indicator."""
    ctx = await context(request)
    body = await read_json(request)
    target = req_target(body)
    state = req_str(body, "state")
    if state not in _PRESENCE_STATES:
        raise invalid("state", f"must be one of {', '.join(sorted(_PRESENCE_STATES))}")
    media = opt_str(body, "media") or ""
    if media not in ("", "audio"):
        raise invalid("media", "must be 'audio' or empty")
    entry = _operation(ctx, "presence", target)
    return ok(_op_receipt(ctx, entry, "Chat presence set successfully", state=state))


async def markread(request: web.Request) -> web.Response:
    """``POST chat/markread``: mark messages of a chat read (publishes a ``ReadReceipt``)."""
    ctx = await context(request)
    body = await read_json(request)
    ids = req_str_list(body, "id", allow_single=True)
    chat_target = req_target(body, "chat")
    sender_target = req_target(body, "sender") if body.get("sender") else None
    ctx.require_connected()
    chat = ctx.store.chats.get(chat_target.jid)
    if chat is not None:
        chat.unread_count = 0
        chat.marked_as_unread = False

    def deliver() -> None:
        event = {
            "message_i_ds": ids,
            "chat": chat_target.jid,
            "sender": sender_target.jid if sender_target else chat_target.jid,
            "is_from_me": True,
            "is_group": chat_target.is_group,
            "timestamp": rfc3339(ctx.state.clock()),
            "type": "read-self",
        }
        # The contract puts a receipt's state beside the event, at data.state (§4.3).
        ctx.state.publish(ctx.instance, "ReadReceipt", event, data_extra={"state": "ReadSelf"})

    entry = _operation(ctx, "markread", chat_target, message_id=ids[0], on_deliver=deliver)
    return ok(_op_receipt(ctx, entry, _MARKREAD_DETAILS))


async def poll_vote(request: web.Request) -> web.Response:
    """``POST chat/poll/vote``: vote in a poll (``vote`` or ``selected_options``)."""
    ctx = await context(request)
    body = await read_json(request)
    target = req_target(body)
    message_id = req_str(body, "message_id")
    raw = body.get("vote") if body.get("vote") is not None else body.get("selected_options")
    if raw is None:
        raise invalid("vote", "is required (or selected_options)")
    votes = [raw] if isinstance(raw, str) else raw
    if not isinstance(votes, list) or not all(isinstance(v, str) and v for v in votes):
        raise invalid("vote", "must be a string or an array of strings")
    opt_str(body, "poll_sender")
    opt_bool(body, "from_me")
    ctx.require_connected()
    poll = ctx.store.messages.get(message_id)
    if poll is not None and poll.poll_options is not None:
        unknown = [v for v in votes if v not in poll.poll_options]
        if unknown:
            raise invalid("vote", f"not an option of this poll: {', '.join(unknown)}")
        if poll.selectable_count and len(votes) > poll.selectable_count:
            raise invalid("vote", f"at most {poll.selectable_count} option(s) may be selected")
        poll.votes = list(votes)
    vote_id = new_message_id()
    node = {
        "poll_update_message": {
            "poll_creation_message_key": _message_key(ctx, target, message_id),
            "vote": {"selected_options": list(votes)},
        }
    }
    entry = _operation(
        ctx,
        "poll_vote",
        target,
        message_id=message_id,
        on_deliver=_publish_message(ctx, vote_id, target, node, {"type": "poll"}),
    )
    return ok(_op_receipt(ctx, entry, "Sent", message_id=vote_id))


def _sent_or_404(ctx: Ctx, request: web.Request, body: dict[str, Any]) -> SentMessage:
    message_id = request.match_info["message_id"]
    sent = ctx.store.messages.get(message_id)
    if sent is None:
        raise SimError(404, "MESSAGE_NOT_FOUND", "message not found")
    if body.get("phone") is not None and req_target(body).jid != sent.target.jid:
        raise SimError(404, "MESSAGE_NOT_FOUND", "message not found in this chat")
    return sent


async def edit_message(request: web.Request) -> web.Response:
    """``PATCH chat/messages/{message_id}``: edit the text (or caption) of a sent message."""
    ctx = await context(request)
    body = await read_json(request)
    text = req_str(body, "message")
    sent = _sent_or_404(ctx, request, body)
    if sent.kind not in ("text", "link", "image", "video", "document", "gif"):
        raise invalid("message", f"a {sent.kind} message cannot be edited")
    ctx.require_connected()
    sent.text = text
    sent.edited = True
    inner = next(iter(sent.message.values()))
    if "conversation" in sent.message:
        sent.message["conversation"] = text
    elif isinstance(inner, dict) and "text" in inner:
        inner["text"] = text
    elif isinstance(inner, dict):
        inner["caption"] = text
    node = {
        "protocol_message": {
            "type": "MESSAGE_EDIT",
            "key": {"remote_jid": sent.target.jid, "from_me": True, "id": sent.message_id},
            "edited_message": {"conversation": text},
        }
    }
    entry = _operation(
        ctx,
        "edit",
        sent.target,
        message_id=sent.message_id,
        on_deliver=_publish_message(ctx, new_message_id(), sent.target, node, {"type": "text"}),
    )
    return ok(_op_receipt(ctx, entry, "Edited", message_id=sent.message_id))


async def delete_message(request: web.Request) -> web.Response:
    """``DELETE chat/messages/{message_id}``: revoke a sent message for everyone."""
    ctx = await context(request)
    body = await read_json(request, required=False)
    sent = _sent_or_404(ctx, request, body)
    ctx.require_connected()
    was_queued = ctx.store.message_queue.get(sent.message_id) is not None
    ctx.store.forget(sent.message_id)
    if was_queued:
        # Never left the phone: nothing to revoke on the network.
        return ok(
            {
                "message_id": sent.message_id,
                "details": "Deleted",
                "status": "canceled",
                "timestamp": rfc3339(ctx.state.clock()),
            }
        )
    node = {
        "protocol_message": {
            "type": "REVOKE",
            "key": {"remote_jid": sent.target.jid, "from_me": True, "id": sent.message_id},
        }
    }
    entry = _operation(
        ctx,
        "delete",
        sent.target,
        message_id=sent.message_id,
        on_deliver=_publish_message(ctx, new_message_id(), sent.target, node, {"type": "text"}),
    )
    return ok(_op_receipt(ctx, entry, "Deleted", message_id=sent.message_id))


def _download_handler(kind: str) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        await context(request)
        body = await read_json(request)
        url = opt_str(body, "url") or ""
        direct_path = opt_str(body, "direct_path") or ""
        if not url and not direct_path:
            raise invalid("url", "is required (or direct_path): post the media node of a message")
        mimetype = opt_str(body, "mimetype") or _DEFAULT_MIME[kind]
        length = opt_int(body, "file_length", minimum=0)
        match = _DATA_URL_RE.match(url) if url.startswith("data:") else None
        if match is not None:
            try:
                content = base64.b64decode(match.group(3), validate=True)
            except (binascii.Error, ValueError):
                raise invalid("url", "data URL payload is not valid base64") from None
        elif kind == "image":
            content = avatar_png(url or direct_path, 16)
            mimetype = "image/png"
        else:
            # Deterministic stand-in bytes: the same node always downloads the same content.
            seed = hashlib.sha256((url or direct_path).encode()).digest()
            size = min(length if length is not None else 256, 65536)
            content = (seed * (size // len(seed) + 1))[:size]
        return ok({"data": b64(content), "mimetype": mimetype, "file_length": len(content)})

    return handler


# ------------------------------------------------------------------------------ queues


def _queue_lister(kind: Literal["message", "operation"]) -> Callable[[web.Request], Any]:
    """``GET queue/messages`` / ``GET queue/operations``: pending entries, oldest first."""

    async def handler(request: web.Request) -> web.Response:
        ctx = await context(request)
        queue = ctx.store.message_queue if kind == "message" else ctx.store.operation_queue
        page = page_of(request, [entry.to_dict(f"{kind}_id") for entry in queue])
        page["dropped"] = queue.dropped
        return ok(page)

    return handler


async def purge_queued_messages(request: web.Request) -> web.Response:
    """``DELETE queue/messages``: cancel every pending outgoing message."""
    ctx = await context(request)
    for entry in ctx.store.message_queue:
        sent = ctx.store.messages.get(entry.entry_id)
        if sent is not None:
            sent.status = "canceled"
    return ok({"removed": ctx.store.message_queue.clear()})


async def remove_queued_message(request: web.Request) -> web.Response:
    """``DELETE queue/messages/{message_id}``: cancel one pending outgoing message."""
    ctx = await context(request)
    message_id = request.match_info["message_id"]
    if ctx.store.message_queue.remove(message_id) is None:
        raise SimError(404, "MESSAGE_NOT_FOUND", "message is not in the queue")
    sent = ctx.store.messages.get(message_id)
    if sent is not None:
        sent.status = "canceled"
    return ok({"removed": 1, "message_id": message_id})


async def purge_operations(request: web.Request) -> web.Response:
    """``DELETE queue/operations``: cancel every pending operation."""
    ctx = await context(request)
    return ok({"removed": ctx.store.operation_queue.clear()})


async def remove_operation(request: web.Request) -> web.Response:
    """``DELETE queue/operations/{operation_id}``: cancel one pending operation."""
    ctx = await context(request)
    operation_id = request.match_info["operation_id"]
    if ctx.store.operation_queue.remove(operation_id) is None:
        raise SimError(404, "OPERATION_NOT_FOUND", "operation is not in the queue")
    return ok({"removed": 1, "operation_id": operation_id})


_BASE = "/instances/{id}"
#: The chat and queue routes, added by `build_app`.
routes = [
    *(web.post(f"{_BASE}/chat/send/{kind}", _send_handler(kind)) for kind in _BUILDERS),
    web.post(f"{_BASE}/chat/react", react),
    web.delete(f"{_BASE}/chat/react", unreact),
    web.post(f"{_BASE}/chat/presence", presence),
    web.post(f"{_BASE}/chat/markread", markread),
    web.post(f"{_BASE}/chat/poll/vote", poll_vote),
    *(
        web.post(f"{_BASE}/chat/download{kind}", _download_handler(kind))
        for kind in ("image", "video", "audio", "document")
    ),
    web.patch(f"{_BASE}/chat/messages/{{message_id}}", edit_message),
    web.delete(f"{_BASE}/chat/messages/{{message_id}}", delete_message),
    web.get(f"{_BASE}/queue/messages", _queue_lister("message")),
    web.delete(f"{_BASE}/queue/messages", purge_queued_messages),
    web.delete(f"{_BASE}/queue/messages/{{message_id}}", remove_queued_message),
    web.get(f"{_BASE}/queue/operations", _queue_lister("operation")),
    web.delete(f"{_BASE}/queue/operations", purge_operations),
    web.delete(f"{_BASE}/queue/operations/{{operation_id}}", remove_operation),
]
