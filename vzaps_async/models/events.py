"""Typed events delivered by webhooks and the realtime WebSocket.

Both channels carry the same envelope::

    {"id": "evt_01J...", "type": "Message", "instance_id": "VZ...",
     "created_at": "2026-06-23T22:57:17.000Z",
     "data": {"type": "Message", "event": {...}, "media_url": "https://..."}}

A webhook body may also be the bare ``data`` object; its instance id then comes from the
``X-Instance-ID`` request header (pass it as ``parse_event(..., instance_id=...)``).

The inner ``event`` object is not documented by the API. Every event keeps it as a plain dict
(`BaseEvent.event`) and the whole original payload (`BaseEvent.raw`); typed helpers exist only for
the few fields observed on the live service (message info and text, receipt state and ids,
disconnect reason). An event type this module does not know becomes an `UnknownEvent` rather than
an error, so a new server-side event type never stops a bot.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias, cast

import attrs

from vzaps_async._convert import converter
from vzaps_async.models.common import EventType

__all__ = [
    "BaseEvent",
    "ChatPresence",
    "Connected",
    "Disconnected",
    "Event",
    "EventType",
    "GroupParticipantsAdd",
    "GroupParticipantsRemove",
    "HistorySync",
    "Message",
    "MessageInfo",
    "Presence",
    "ReadReceipt",
    "ReceiptState",
    "UnknownEvent",
    "event_class",
    "parse_event",
]


class ReceiptState(enum.StrEnum):
    """The ``state`` of a `ReadReceipt` (unknown values are kept as plain strings)."""

    DELIVERED = "Delivered"
    READ = "Read"
    READ_SELF = "ReadSelf"


def _dict_or_empty(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


@attrs.frozen
class BaseEvent:
    """Fields every event has.

    Args:
        type: The event type name as sent (``"Message"``, ``"ReadReceipt"``, ...).
        event: The inner ``event`` object, untouched.
        raw: The whole payload as received (envelope or bare ``data``).
        id: The event id (``evt_...``), the deduplication key; None when a bare ``data`` object
            was delivered.
        instance_id: The instance the event belongs to.
        created_at: When the server created the event.
        media_url: URL of the stored media file, on incoming media when storage has it.
    """

    type: str
    event: dict[str, Any] = attrs.field(factory=dict, repr=False)
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)
    id: str | None = None
    instance_id: str | None = None
    created_at: datetime | None = None
    media_url: str | None = None

    @property
    def dedup_key(self) -> str | None:
        """The key deliveries of this event share: its id (None when there is none)."""
        return self.id

    @classmethod
    def _own_fields(cls, event: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        """The fields this event class adds to `BaseEvent`'s, read from the inner ``event``
        object and the ``data`` object around it (none here)."""
        return {}


@attrs.frozen
class Connected(BaseEvent):
    """The WhatsApp session connected (paired)."""


@attrs.frozen
class Disconnected(BaseEvent):
    """The WhatsApp session disconnected.

    Args:
        reason: The reason the server gave, if any.
    """

    reason: str | None = None

    @classmethod
    def _own_fields(cls, event: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        reason = event.get("reason", data.get("reason"))
        return {"reason": None if reason is None else str(reason)}


@attrs.frozen
class MessageInfo:
    """The ``event.info`` block of a `Message` (every field optional).

    Args:
        id: WhatsApp message id.
        chat: Chat JID (``5511999999999@s.whatsapp.net``, a group ``...@g.us`` or an ``@lid``).
        sender: Sender JID.
        sender_alt: The sender's phone JID when ``chat``/``sender`` is an ``@lid``.
        is_from_me: True for messages the connected account sent.
        is_group: True for group chats.
        push_name: The sender's display name.
        timestamp: When the message was sent.
        type: Message kind (e.g. ``text``, ``media``).
        media_type: Media kind (e.g. ``image``, ``ptt``).
    """

    id: str | None = None
    chat: str | None = None
    sender: str | None = None
    sender_alt: str | None = None
    is_from_me: bool = False
    is_group: bool = False
    push_name: str | None = None
    timestamp: datetime | None = None
    type: str | None = None
    media_type: str | None = None


@attrs.frozen
class Message(BaseEvent):
    """An incoming or outgoing message.

    Args:
        info: The typed ``event.info`` block.
    """

    info: MessageInfo = attrs.field(factory=MessageInfo)

    @classmethod
    def _own_fields(cls, event: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        return {"info": _dict_or_empty(event.get("info"))}

    @property
    def message(self) -> dict[str, Any]:
        """The raw ``event.message`` object (``conversation``, ``image_message``, ...)."""
        return _dict_or_empty(self.event.get("message"))

    @property
    def text(self) -> str | None:
        """The text: ``conversation``, ``extended_text_message.text``, or a media caption."""
        message = self.message
        if isinstance(message.get("conversation"), str):
            return str(message["conversation"])
        extended = _dict_or_empty(message.get("extended_text_message"))
        if isinstance(extended.get("text"), str):
            return str(extended["text"])
        for kind in ("image_message", "video_message", "document_message"):
            caption = _dict_or_empty(message.get(kind)).get("caption")
            if isinstance(caption, str):
                return caption
        return None

    @property
    def chat(self) -> str | None:
        """Shortcut for ``info.chat``."""
        return self.info.chat

    @property
    def is_from_me(self) -> bool:
        """Shortcut for ``info.is_from_me``."""
        return self.info.is_from_me

    @property
    def reply_to(self) -> str | None:
        """Where a reply should go: the phone JID when the chat is an ``@lid``, else the chat."""
        chat = self.info.chat
        if chat and chat.endswith("@lid") and not self.info.is_group and self.info.sender_alt:
            return self.info.sender_alt
        return chat

    @property
    def dedup_key(self) -> str | None:
        """The event id, or ``msg:<instance id>:<message id>`` for a bare ``data`` delivery
        without one."""
        if self.id:
            return self.id
        # One WhatsApp message reaches every instance in its chat under the same message id (the
        # sender's copy and each recipient's), so only the instance tells those deliveries apart.
        return f"msg:{self.instance_id or ''}:{self.info.id}" if self.info.id else None


@attrs.frozen
class ReadReceipt(BaseEvent):
    """A delivery or read receipt.

    Args:
        state: ``Delivered``, ``Read`` or ``ReadSelf`` (an unknown value stays a string).
        message_ids: The receipted message ids (``event.message_i_ds`` on the wire).
    """

    state: ReceiptState | str | None = None
    message_ids: tuple[str, ...] = ()

    @classmethod
    def _own_fields(cls, event: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        state = data.get("state", event.get("state"))
        ids = event.get("message_i_ds", event.get("message_ids", data.get("message_i_ds")))
        return {
            "state": state if isinstance(state, str) else None,
            "message_ids": [str(i) for i in ids] if isinstance(ids, list | tuple) else [],
        }


@attrs.frozen
class Presence(BaseEvent):
    """A contact's presence changed (``event`` has ``from``, ``unavailable``, ``last_seen``)."""


@attrs.frozen
class HistorySync(BaseEvent):
    """History sync progress."""


@attrs.frozen
class ChatPresence(BaseEvent):
    """Typing or recording in a chat (``event`` has ``chat``, ``sender``, ``state``, ``media``)."""


@attrs.frozen
class GroupParticipantsAdd(BaseEvent):
    """Participants were added to a group."""


@attrs.frozen
class GroupParticipantsRemove(BaseEvent):
    """Participants were removed from a group."""


@attrs.frozen
class UnknownEvent(BaseEvent):
    """An event whose type this version does not know; everything is in `event` and `raw`."""


#: Any event `parse_event` can return.
Event: TypeAlias = (
    Connected
    | Disconnected
    | Message
    | ReadReceipt
    | Presence
    | HistorySync
    | ChatPresence
    | GroupParticipantsAdd
    | GroupParticipantsRemove
    | UnknownEvent
)

_CLASSES: dict[str, type[BaseEvent]] = {
    EventType.CONNECTED.value: Connected,
    EventType.DISCONNECTED.value: Disconnected,
    EventType.MESSAGE.value: Message,
    EventType.READ_RECEIPT.value: ReadReceipt,
    EventType.PRESENCE.value: Presence,
    EventType.HISTORY_SYNC.value: HistorySync,
    EventType.CHAT_PRESENCE.value: ChatPresence,
    EventType.GROUP_PARTICIPANTS_ADD.value: GroupParticipantsAdd,
    EventType.GROUP_PARTICIPANTS_REMOVE.value: GroupParticipantsRemove,
}

# Keys under which observed senders put the inner event object of a bare ``data`` payload.
_EVENT_KEYS = ("event", "payload", "json_data")


def event_class(type_name: str) -> type[BaseEvent]:
    """Return the class events of ``type_name`` parse into (`UnknownEvent` for unknown names).

    Args:
        type_name: An event type name, exact case.
    """
    return _CLASSES.get(type_name, UnknownEvent)


def _is_envelope(payload: Mapping[str, Any]) -> bool:
    return isinstance(payload.get("data"), Mapping) and not any(k in payload for k in _EVENT_KEYS)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _normalize(payload: Mapping[str, Any], instance_id: str | None) -> dict[str, Any]:
    """Flatten an envelope or a bare ``data`` object into the fields of the event classes."""
    if _is_envelope(payload):
        envelope: Mapping[str, Any] = payload
        data: Mapping[str, Any] = payload["data"]
    else:
        envelope, data = payload, payload
    event: dict[str, Any] = {}
    for key in _EVENT_KEYS:
        if isinstance(data.get(key), Mapping):
            event = dict(data[key])
            break
    type_name = _text_or_none(envelope.get("type")) or _text_or_none(data.get("type")) or ""
    fields: dict[str, Any] = {
        "type": type_name,
        "event": event,
        "raw": dict(payload),
        "id": _text_or_none(envelope.get("id")),
        "instance_id": _text_or_none(envelope.get("instance_id"))
        or _text_or_none(data.get("instance_id"))
        or instance_id,
        "created_at": envelope.get("created_at") or data.get("created_at"),
        "media_url": _text_or_none(data.get("media_url")) or _text_or_none(event.get("media_url")),
    }
    fields.update(event_class(type_name)._own_fields(event, data))
    return fields


def _build(payload: Any, instance_id: str | None) -> Event:
    if not isinstance(payload, Mapping):
        raise TypeError(f"an event payload must be a JSON object, not {type(payload).__name__}")
    fields = _normalize(payload, instance_id)
    cls = event_class(fields["type"])
    return cast("Event", converter.structure(fields, cls))


def _structure_event(value: Any, _: Any) -> Event:
    return _build(value, None)


def parse_event(payload: Mapping[str, Any], *, instance_id: str | None = None) -> Event:
    """Parse a webhook body or realtime frame into a typed event.

    Accepts the full envelope or a bare ``data`` object. Never fails on an unknown type (that gives
    an `UnknownEvent`) or on missing inner fields (they become None/empty).

    Args:
        payload: The decoded JSON object.
        instance_id: The instance id to use when the payload has none (the ``X-Instance-ID``
            header of a webhook delivery).

    Raises:
        TypeError: ``payload`` is not a JSON object.
    """
    return _build(payload, instance_id)


# `structure(payload, Event)` reads the envelope or a bare ``data`` object into the class of its
# type (a wire decision of `vzaps_async._convert`, registered here where the union exists).
converter.register_structure_hook(Event, _structure_event)
