"""Models of the outgoing message and operation queues (undocumented responses: unknown fields
are kept in ``extra``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from vzaps_async._convert import EXTRA

__all__ = ["QueuePage", "QueueRemoval", "QueuedItem"]


@attrs.frozen
class QueuedItem:
    """One pending message or operation.

    Args:
        message_id: The message (for a queued message, or the message an operation acts on).
        operation_id: The operation, for an entry of the operation queue.
        type: What it is (``text``, ``image``, ``react``, ...).
        phone: The target number (or group id).
        jid: The target JID.
        status: Its state (e.g. ``queued``).
        created_at: When it was queued.
        scheduled_at: When it is due.
        extra: Fields this model does not name.
    """

    message_id: str | None = None
    operation_id: str | None = None
    type: str | None = None
    phone: str | None = None
    jid: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    scheduled_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class QueuePage:
    """One page of a queue.

    Args:
        content: The entries on this page.
        page: Page number, 1-based, when reported.
        size: Page size, when reported.
        total: Number of entries over all pages, when reported.
        total_pages: Number of pages, when reported.
    """

    content: tuple[QueuedItem, ...] = ()
    page: int | None = None
    size: int | None = None
    total: int | None = None
    total_pages: int | None = None


@attrs.frozen
class QueueRemoval:
    """The answer of a queue purge or removal.

    Args:
        removed: How many entries were removed, when the server says.
        message_id: The message removed, for a single removal.
        operation_id: The operation removed, for a single removal.
        extra: Fields this model does not name.
    """

    removed: int | None = None
    message_id: str | None = None
    operation_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)
