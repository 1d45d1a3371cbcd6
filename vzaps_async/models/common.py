"""Models and enums shared by several endpoint groups."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from vzaps_async._convert import EXTRA

__all__ = [
    "ActionResult",
    "EventType",
    "StatusResult",
]


class EventType(enum.StrEnum):
    """The event type names the API documents (exact, case-sensitive)."""

    ALL = "All"
    CONNECTED = "Connected"
    DISCONNECTED = "Disconnected"
    MESSAGE = "Message"
    READ_RECEIPT = "ReadReceipt"
    PRESENCE = "Presence"
    HISTORY_SYNC = "HistorySync"
    CHAT_PRESENCE = "ChatPresence"
    GROUP_PARTICIPANTS_ADD = "GroupParticipantsAdd"
    GROUP_PARTICIPANTS_REMOVE = "GroupParticipantsRemove"


@attrs.frozen
class ActionResult:
    """The result of an action on an instance (restart, disconnect, mark-read).

    Args:
        instance_id: The instance acted on.
        status: What the server reports; the values are undocumented, so this is a plain string.
        details: A human-readable description.
        extra: Fields of the answer this model does not name.
    """

    instance_id: str | None = None
    status: str | None = None
    details: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class StatusResult:
    """The short confirmation an action answers with: ``{"status": "ok"}`` for chat actions,
    TypeBot and Chatwoot changes and resume, ``{"message": ...}`` for cancel, nothing for a
    delete that answers 204 (then every field is None).

    Args:
        status: What the server reports, e.g. ``"ok"`` (values undocumented: a plain string).
        message: A human-readable message (cancel: "Instance canceled successfully").
        details: A human-readable description, when the server sends one.
        extra: Fields of the answer this model does not name (e.g. an import's ``scope``).
    """

    status: str | None = None
    message: str | None = None
    details: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)
