"""Instance models: the public instance summary and a page of them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from vzaps_async._convert import EventNames
from vzaps_async._secret import Secret, url_repr

#: The default of an event-name list: none.
_NO_EVENTS = EventNames(())

__all__ = ["BillingStatus", "InstanceInfo", "InstancePage"]


class BillingStatus(enum.StrEnum):
    """Billing state of an instance. Only ``TRIALING`` is documented; the rest follow Stripe's
    subscription statuses, upper-cased. Unknown values are kept as plain strings."""

    TRIALING = "TRIALING"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    UNPAID = "UNPAID"
    INCOMPLETE = "INCOMPLETE"
    INCOMPLETE_EXPIRED = "INCOMPLETE_EXPIRED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


@attrs.frozen
class InstanceInfo:
    """The public summary of an instance (create, get, list and update responses).

    Args:
        id: Public instance id (``VZ…``).
        name: Instance name.
        token: The instance token; returned by create, maybe not by later reads.
        url: Dashboard URL of the instance.
        webhook: Webhook URL.
        events_subscribe: Subscribed event names (the wire sends a comma-joined string).
        reject_calls: Whether incoming calls are rejected.
        auto_read_messages: Whether incoming messages are marked read automatically.
        connected: WhatsApp session state; None when the session was never started.
        connected_at: When the session connected.
        whatsapp_push_name: The WhatsApp display name of the paired account.
        whatsapp_jid: The JID of the paired account.
        billing_status: Billing state (`BillingStatus`, or the raw string for unknown values).
        status: Runtime status; the values are undocumented.
        created_at: Creation time.
        updated_at: Last update time.
        cancel_at: When a scheduled cancellation takes effect.
        expired_at: When the instance expired.
        labels: Free-form labels given at creation.
    """

    id: str
    name: str | None = None
    token: Secret | None = None
    url: str | None = None
    webhook: str | None = attrs.field(default=None, repr=url_repr)
    events_subscribe: EventNames = _NO_EVENTS
    reject_calls: bool | None = None
    auto_read_messages: bool | None = None
    connected: bool | None = None
    connected_at: datetime | None = None
    whatsapp_push_name: str | None = None
    whatsapp_jid: str | None = None
    billing_status: BillingStatus | str | None = None
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    cancel_at: datetime | None = None
    expired_at: datetime | None = None
    labels: dict[str, Any] | None = None


@attrs.frozen
class InstancePage:
    """One page of `POST /instances/list` (or ``/instances/search``).

    Args:
        content: The instances on this page.
        page: Page number, 1-based.
        size: Page size.
        total: Number of instances over all pages.
        total_pages: Number of pages.
        summary: Account summary sent with the page; its contents are undocumented.
    """

    content: tuple[InstanceInfo, ...]
    page: int | None = None
    size: int | None = None
    total: int | None = None
    total_pages: int | None = None
    summary: dict[str, Any] | None = None
