"""Per-instance state behind the simulator's resource routes (chat, queues, chats, groups, ...).

Pure state: no aiohttp here. One `ResourceStore` lives in each simulated instance's
``resources`` field and is created on first use. Everything is bounded so a long benchmark
cannot grow memory without limit: the sent-message history, the chat list and the outgoing queue
all have caps (`ResourceLimits`).

Delivery model (the contract only says sends are "accepted/queued"): every send becomes a queue
entry; an entry is delivered once the instance is connected and its ``delay`` (seconds) has
elapsed. Delivery is lazy: it happens whenever the instance's resource routes are used (and, for a
delayed send, when its timer fires). Delivered entries leave the queue; their history entry
changes from ``queued`` to ``sent``. Non-message actions (presence, reactions, read marks, poll
votes, edits, deletes) follow the same rule in a separate operations queue. Their effect on local
state (a reaction on the stored message, an edited text) applies at once, like a phone updating
its own screen before the network confirms.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import os
import re
import struct
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import attrs

__all__ = [
    "Chat",
    "ChatbotState",
    "Group",
    "QueueEntry",
    "ResourceLimits",
    "ResourceStore",
    "SentMessage",
    "Target",
    "avatar_png",
    "number_exists",
    "parse_target",
    "rfc3339",
]

USER_SERVER = "s.whatsapp.net"
GROUP_SERVER = "g.us"
_PHONE_RE = re.compile(r"^[1-9][0-9]{7,14}$")
_GROUP_ID_RE = re.compile(r"^[0-9]{6,20}(-[0-9]{6,20})?$")
_JID_RE = re.compile(
    r"^([0-9]{6,20}(?:-[0-9]{6,20})?)(?::[0-9]+)?@(s\.whatsapp\.net|g\.us|lid|c\.us)$"
)


def rfc3339(epoch: float) -> str:
    """Format seconds since the epoch as RFC 3339 UTC with milliseconds (``...T...123Z``).

    Args:
        epoch: Seconds since the Unix epoch.
    """
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def number_exists(phone: str) -> bool:
    """Whether a phone number "is on WhatsApp" in the simulator: numbers ending in 0 are not.

    Args:
        phone: Digits with country code.
    """
    return not phone.endswith("0")


@attrs.frozen
class Target:
    """A parsed chat address: a phone number, a group id or a full JID.

    Args:
        jid: Canonical JID (``<digits>@s.whatsapp.net`` or ``<id>@g.us``).
        phone: The user part (digits, or the group id for groups).
        is_group: Whether the address is a group.
    """

    jid: str
    phone: str
    is_group: bool


def parse_target(value: object) -> Target | None:
    """Parse a ``phone`` field or ``{phone}`` path parameter; None when it is not an address.

    Accepts country-code digits (no ``+``), a group id (``120363...@g.us`` or the bare id with a
    dash) and full JIDs (``@s.whatsapp.net``, ``@c.us``, ``@lid``, ``@g.us``).

    Args:
        value: The raw value.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _PHONE_RE.match(text):
        return Target(f"{text}@{USER_SERVER}", text, False)
    match = _JID_RE.match(text)
    if match:
        user, server = match.group(1), match.group(2)
        if server == GROUP_SERVER:
            return Target(f"{user}@{GROUP_SERVER}", user, True)
        if server == "lid":
            return Target(f"{user}@lid", user, False)
        if "-" in user:
            return None
        return Target(f"{user}@{USER_SERVER}", user, False)
    if _GROUP_ID_RE.match(text) and "-" in text:
        return Target(f"{text}@{GROUP_SERVER}", text, True)
    return None


@attrs.define
class SentMessage:
    """One message sent through this instance (kept in the bounded history).

    Args:
        message_id: WhatsApp message id.
        target: Where it was sent.
        kind: Send route kind (``text``, ``image``, ...).
        text: Text or caption (None for media without caption).
        message: The WhatsApp-style message node published in events.
        created_at: Epoch seconds.
        status: ``queued``, ``sent`` or ``canceled``.
        poll_options: Option names when the message is a poll.
        selectable_count: Poll's ``selectable_options_count`` (0 = any number).
        reactions: Reaction per chat address (the own account's reaction only, in practice).
        votes: Last poll vote (selected option names).
        edited: Whether the text was edited.
    """

    message_id: str
    target: Target
    kind: str
    text: str | None
    message: dict[str, Any]
    created_at: float
    status: str = "queued"
    poll_options: list[str] | None = None
    selectable_count: int = 0
    reactions: dict[str, str] = attrs.Factory(dict)
    votes: list[str] = attrs.Factory(list)
    edited: bool = False


@attrs.define
class QueueEntry:
    """A pending outgoing message or operation.

    Args:
        entry_id: Message id (messages) or operation id (operations).
        kind: Message kind or operation type (``presence``, ``react``, ...).
        target: The chat it concerns.
        created_at: Epoch seconds when accepted.
        deliver_at: Earliest epoch seconds for delivery (``created_at + delay``).
        message_id: For operations, the message it refers to.
        on_deliver: Called once at delivery (publishes the matching event).
    """

    entry_id: str
    kind: str
    target: Target
    created_at: float
    deliver_at: float
    message_id: str | None = None
    on_deliver: Callable[[], None] | None = None

    def to_dict(self, id_key: str) -> dict[str, Any]:
        """Render for the queue routes.

        Args:
            id_key: ``message_id`` or ``operation_id``.
        """
        body: dict[str, Any] = {
            id_key: self.entry_id,
            "type": self.kind,
            "phone": self.target.phone,
            "jid": self.target.jid,
            "status": "queued",
            "created_at": rfc3339(self.created_at),
            "scheduled_at": rfc3339(self.deliver_at),
        }
        if self.message_id is not None:
            body["message_id"] = self.message_id
        return body


class _Queue:
    """Pending entries: insertion-ordered for listing, a heap on ``deliver_at`` for delivery."""

    __slots__ = ("_entries", "_heap", "_seq", "dropped", "limit")

    def __init__(self, limit: int) -> None:
        self._entries: OrderedDict[str, QueueEntry] = OrderedDict()
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self.limit = limit
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[QueueEntry]:
        return iter(list(self._entries.values()))

    def get(self, entry_id: str) -> QueueEntry | None:
        return self._entries.get(entry_id)

    def push(self, entry: QueueEntry) -> QueueEntry | None:
        """Add an entry; returns the oldest entry dropped to respect the cap, if any."""
        dropped: QueueEntry | None = None
        if len(self._entries) >= self.limit:
            _, dropped = self._entries.popitem(last=False)
            self.dropped += 1
        self._entries[entry.entry_id] = entry
        self._seq += 1
        heapq.heappush(self._heap, (entry.deliver_at, self._seq, entry.entry_id))
        if len(self._heap) > 2 * self.limit + 64:
            # Stale heap items (removed entries) are skipped lazily; rebuild when they pile up.
            self._heap = [
                (e.deliver_at, i, e.entry_id) for i, e in enumerate(self._entries.values())
            ]
            heapq.heapify(self._heap)
        return dropped

    def remove(self, entry_id: str) -> QueueEntry | None:
        return self._entries.pop(entry_id, None)

    def clear(self) -> int:
        removed = len(self._entries)
        self._entries.clear()
        self._heap.clear()
        return removed

    def pop_due(self, now: float) -> Iterator[QueueEntry]:
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, entry_id = heapq.heappop(heap)
            entry = self._entries.pop(entry_id, None)
            if entry is not None:
                yield entry


@attrs.define
class Chat:
    """Metadata of one chat, rendered as the contract's flat chat object.

    Args:
        target: The chat address.
        name: Display name.
        last_message_at: Epoch seconds of the last message (0 = none).
        last_message_user_phone: Sender phone of the last message.
        last_message_user_name: Sender name of the last message.
        archived: Archived flag.
        pinned: Pinned flag.
        unread_count: Unread incoming messages.
        marked_as_unread: Manually marked unread.
        mute_end_time: 0 = not muted, -1 = muted forever, else epoch seconds.
        expiration: Disappearing-messages setting (``OFF``, ``24_HOURS``, ...).
    """

    target: Target
    name: str
    last_message_at: float = 0.0
    last_message_user_phone: str = ""
    last_message_user_name: str = ""
    archived: bool = False
    pinned: bool = False
    unread_count: int = 0
    marked_as_unread: bool = False
    mute_end_time: int = 0
    expiration: str = "OFF"

    def is_muted(self, now: float) -> bool:
        """Whether the chat is muted at ``now``.

        Args:
            now: Epoch seconds.
        """
        return self.mute_end_time == -1 or self.mute_end_time > now

    def to_dict(self, now: float) -> dict[str, Any]:
        """Render the flat chat object (types as documented: ``unread`` is a string, ...).

        Args:
            now: Epoch seconds, for the mute state.
        """
        muted = self.is_muted(now)
        return {
            "phone": self.target.phone,
            "jid": self.target.jid,
            "name": self.name,
            "last_message_user_name": self.last_message_user_name,
            "last_message_user_phone": self.last_message_user_phone,
            "community_name": "",
            "community_jid": "",
            "archived": self.archived,
            "pinned": self.pinned,
            "unread": str(self.unread_count),
            "messages_unread": self.unread_count,
            "marked_as_unread": self.marked_as_unread,
            "is_muted": "1" if muted else "0",
            "is_marked_spam": False,
            "is_group": self.target.is_group,
            "is_group_announcement": False,
            "last_message_time": rfc3339(self.last_message_at) if self.last_message_at else "",
            "last_message_timestamp_ms": int(self.last_message_at * 1000),
            "mute_end_time": self.mute_end_time if muted else 0,
            "expiration": self.expiration,
        }


@attrs.define
class Group:
    """A WhatsApp group owned or joined by the instance.

    Args:
        jid: Group JID.
        name: Subject.
        owner_jid: Creator.
        created_at: Epoch seconds.
        participants: Member JID -> admin flag.
        topic: Description.
        picture_id: Current photo id ("" = none).
        invite_code: Current invite code.
        admin_only_message: Announcement mode.
        admin_only_settings: Locked settings.
        delay_message: Disappearing-messages timer in seconds (0 = off).
    """

    jid: str
    name: str
    owner_jid: str
    created_at: float
    participants: dict[str, bool]
    topic: str = ""
    picture_id: str = ""
    invite_code: str = ""
    admin_only_message: bool = False
    admin_only_settings: bool = False
    delay_message: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Render the group metadata."""
        return {
            "jid": self.jid,
            "name": self.name,
            "topic": self.topic,
            "owner_jid": self.owner_jid,
            "created_at": rfc3339(self.created_at),
            "picture_id": self.picture_id,
            "admin_only_message": self.admin_only_message,
            "admin_only_settings": self.admin_only_settings,
            "delay_message": self.delay_message,
            "participants": [
                {
                    "jid": jid,
                    "phone": jid.split("@", 1)[0],
                    "is_admin": is_admin,
                    "is_super_admin": jid == self.owner_jid,
                }
                for jid, is_admin in self.participants.items()
            ],
        }


@attrs.define
class ChatbotState:
    """TypeBot configs and sessions plus the Chatwoot configuration of one instance.

    Args:
        typebots: ``typebot_id`` -> config dict (as stored, with ids and timestamps).
        sessions: ``session_id`` -> session dict.
        chatwoot: The Chatwoot configuration (with the real token), or None.
    """

    typebots: dict[str, dict[str, Any]] = attrs.Factory(dict)
    sessions: dict[str, dict[str, Any]] = attrs.Factory(dict)
    chatwoot: dict[str, Any] | None = None


@attrs.frozen
class ResourceLimits:
    """Caps that keep per-instance state bounded.

    Args:
        message_history: Sent messages remembered for edit/delete/react/vote (oldest forgotten).
        queue: Pending entries per queue; beyond it the oldest pending entry is dropped.
        chats: Chats remembered (least recently active forgotten).
    """

    message_history: int = 1000
    queue: int = 10_000
    chats: int = 5000


def new_message_id() -> str:
    """A WhatsApp-style outgoing message id (``3EB0`` + 16 upper-case hex digits)."""
    return "3EB0" + os.urandom(8).hex().upper()


class ResourceStore:
    """All resource state of one simulated instance.

    Args:
        limits: Caps on stored state.
        clock: Returns epoch seconds (injectable for tests of time-based rules).
    """

    def __init__(self, limits: ResourceLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.messages: OrderedDict[str, SentMessage] = OrderedDict()
        self.message_queue = _Queue(limits.queue)
        self.operation_queue = _Queue(limits.queue)
        self.chats: OrderedDict[str, Chat] = OrderedDict()
        self.groups: dict[str, Group] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.chatbots = ChatbotState()

    # -- messages -----------------------------------------------------------------------------

    def remember(self, message: SentMessage) -> None:
        """Store a sent message in the bounded history.

        Args:
            message: The message.
        """
        self.messages[message.message_id] = message
        if len(self.messages) > self.limits.message_history:
            self.messages.popitem(last=False)

    def forget(self, message_id: str) -> SentMessage | None:
        """Remove a message from the history and from the pending queue.

        Args:
            message_id: Its id.
        """
        self.message_queue.remove(message_id)
        return self.messages.pop(message_id, None)

    # -- queues -------------------------------------------------------------------------------

    def enqueue(self, queue: _Queue, entry: QueueEntry) -> None:
        """Queue an entry (dropping the oldest pending one past the cap).

        Args:
            queue: `message_queue` or `operation_queue`.
            entry: The entry.
        """
        dropped = queue.push(entry)
        if dropped is not None and dropped.entry_id in self.messages:
            self.messages[dropped.entry_id].status = "canceled"

    def deliver_due(self, connected: bool) -> None:
        """Deliver every due entry of both queues when the instance is connected.

        Args:
            connected: Whether the instance's WhatsApp session is connected.
        """
        if not connected:
            return
        now = self.clock()
        for entry in self.message_queue.pop_due(now):
            sent = self.messages.get(entry.entry_id)
            if sent is not None:
                sent.status = "sent"
            if entry.on_deliver is not None:
                entry.on_deliver()
        for entry in self.operation_queue.pop_due(now):
            if entry.on_deliver is not None:
                entry.on_deliver()

    # -- chats --------------------------------------------------------------------------------

    def touch_chat(self, target: Target, *, sender_phone: str, sender_name: str) -> Chat:
        """Create or update the chat of an outgoing message (most recent last).

        Args:
            target: The chat address.
            sender_phone: Phone of the sender of the last message.
            sender_name: Name of the sender of the last message.
        """
        chat = self.chats.get(target.jid)
        if chat is None:
            chat = Chat(target=target, name=self.display_name(target))
            self.chats[target.jid] = chat
            if len(self.chats) > self.limits.chats:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(target.jid)
        chat.last_message_at = self.clock()
        chat.last_message_user_phone = sender_phone
        chat.last_message_user_name = sender_name
        chat.archived = False
        return chat

    def record_incoming(
        self, chat_target: Target, *, sender_phone: str, push_name: str = ""
    ) -> Chat:
        """Count an incoming message in its chat (for simulated phones writing to the instance).

        Args:
            chat_target: The chat it arrived in.
            sender_phone: The sender's phone.
            push_name: The sender's display name.
        """
        chat = self.touch_chat(chat_target, sender_phone=sender_phone, sender_name=push_name)
        chat.unread_count += 1
        return chat

    def display_name(self, target: Target) -> str:
        """Best display name for an address: the group subject or the saved contact name.

        Args:
            target: The address.
        """
        group = self.groups.get(target.jid)
        if group is not None:
            return group.name
        contact = self.contacts.get(target.jid)
        if contact is not None:
            return str(contact.get("full_name") or contact.get("first_name") or "")
        return ""

    def drop_chat_messages(self, jid: str) -> None:
        """Forget every stored and pending message of one chat.

        Args:
            jid: The chat JID.
        """
        for message_id in [m.message_id for m in self.messages.values() if m.target.jid == jid]:
            self.forget(message_id)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


@lru_cache(maxsize=256)
def avatar_png(seed: str, size: int) -> bytes:
    """A real PNG: a solid square whose colour is derived from ``seed`` (stable per phone).

    Args:
        seed: Any string (the phone number).
        size: Width and height in pixels.
    """
    r, g, b = hashlib.sha256(seed.encode()).digest()[:3]
    row = b"\x00" + bytes((r, g, b)) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * size))
        + _png_chunk(b"IEND", b"")
    )


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``.

    Args:
        data: Bytes.
    """
    return base64.b64encode(data).decode("ascii")


def new_uuid() -> str:
    """A random UUID string."""
    return str(uuid.uuid4())
