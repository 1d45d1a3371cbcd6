"""Webhook configuration and delivery-log models."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from vzaps_async._convert import EXTRA, Count, EventNames
from vzaps_async._secret import url_repr

#: The default of an event-name list: none.
_NO_EVENTS = EventNames(())

__all__ = ["WebhookConfig", "WebhookLog", "WebhookLogPage", "WebhookLogStatus"]


class WebhookLogStatus(enum.StrEnum):
    """Delivery state of a webhook log entry (only ``failed`` is documented)."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"


@attrs.frozen
class WebhookConfig:
    """The webhook of an instance (`GET`/`POST /instances/{id}/webhook`).

    Args:
        webhook: The URL deliveries go to (None or empty when unset).
        events: Subscribed event names; the wire calls it ``subscribe`` (an array) on GET and
            ``events`` (a comma string) on POST.
    """

    webhook: str | None = attrs.field(default=None, repr=url_repr)
    events: EventNames = _NO_EVENTS


@attrs.frozen
class WebhookLog:
    """One webhook delivery and its attempts.

    Only ``status``, ``payload`` and ``attempts`` are documented; the rest are read when present.

    Args:
        id: Log id (``log_…``).
        status: `WebhookLogStatus`, or the raw string for unknown values.
        payload: The body that was (or will be) posted.
        attempts: Number of delivery attempts so far.
        event_type: The event type delivered.
        url: The URL posted to.
        response_status: HTTP status of the last attempt.
        response_body: Body of the last response.
        error: Error of the last attempt.
        created_at: When the delivery was created.
        last_attempt_at: When it was last attempted.
        next_attempt_at: When it will be attempted next.
        extra: Fields this model does not name (e.g. ``retried`` after a retry).
    """

    id: str | None = None
    status: WebhookLogStatus | str | None = None
    payload: Any = None
    attempts: Count | None = None
    event_type: str | None = None
    url: str | None = attrs.field(default=None, repr=url_repr)
    response_status: int | None = None
    response_body: str | None = None
    error: str | None = None
    created_at: datetime | None = None
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class WebhookLogPage:
    """One page of webhook delivery logs.

    Args:
        content: The logs on this page.
        page: Page number, 1-based.
        size: Page size.
        total: Number of logs over all pages.
        total_pages: Number of pages.
    """

    content: tuple[WebhookLog, ...] = ()
    page: int | None = None
    size: int | None = None
    total: int | None = None
    total_pages: int | None = None
