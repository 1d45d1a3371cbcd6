"""Message models: send results, downloaded media, and the parts of interactive messages."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from vzaps_async._convert import EXTRA

__all__ = [
    "Button",
    "ListRow",
    "ListSection",
    "MediaDownload",
    "MessageAction",
    "PresenceState",
    "SentMessage",
]


class PresenceState(enum.StrEnum):
    """Chat presence states for `MessagesAPI.presence` (values not documented by the API)."""

    COMPOSING = "composing"
    PAUSED = "paused"
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"


@attrs.frozen
class SentMessage:
    """The response of a ``chat/send/*`` call: the message was accepted (queued) for sending.

    Args:
        message_id: Id of the message; required (a send without it did not succeed).
        details: Human-readable status, e.g. ``"Sent"``.
        timestamp: When the server accepted the message.
    """

    message_id: str
    details: str | None = None
    timestamp: datetime | None = None


@attrs.frozen
class MessageAction:
    """The answer of an action on a message or chat (vote, react, presence, edit, delete, or a
    chat route sent with `MessagesAPI.send`): undocumented beyond an id and a status, so the
    fields it does not name are kept in ``extra``.

    Args:
        message_id: The message acted on, or the new message the action created (a reaction,
            a vote).
        operation_id: Id of the queued operation, when the server reports one.
        status: What the server reports (e.g. ``"sent"`` or ``"queued"``).
        details: Human-readable status.
        timestamp: When the server accepted the action.
        extra: Fields this model does not name (e.g. the presence ``state``).
    """

    message_id: str | None = None
    operation_id: str | None = None
    status: str | None = None
    details: str | None = None
    timestamp: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class MediaDownload:
    """Media downloaded from WhatsApp (``chat/download*``).

    Args:
        data: The file as base64 text (wire ``data``, ``file``, ``base64`` or ``media``).
        mimetype: Its MIME type.
    """

    data: str
    mimetype: str | None = None

    @property
    def content(self) -> bytes:
        """The decoded file bytes (a ``data:`` URL prefix is tolerated)."""
        text = self.data.partition(",")[2] if self.data.startswith("data:") else self.data
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the downloaded media is not valid base64") from exc


@attrs.frozen
class Button:
    """A reply button of `MessagesAPI.send_buttons`.

    Args:
        id: Id reported back when the button is tapped.
        text: Button label.
    """

    id: str
    text: str


@attrs.frozen
class ListRow:
    """A row of a list-message section.

    Args:
        id: Id reported back when the row is chosen.
        title: Row title.
        description: Optional second line.
    """

    id: str
    title: str
    description: str | None = None


@attrs.frozen
class ListSection:
    """A section of a list message.

    Args:
        title: Section title.
        rows: The rows of the section.
    """

    title: str
    rows: tuple[ListRow, ...]
