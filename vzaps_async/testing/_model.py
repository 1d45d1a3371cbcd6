"""The values the simulator's state is made of: accounts, instances, pairing runs.

The pieces of `SimState` (`_accounts`, `_registry`, `_pairing`, `_sessions`, `_billing`) change
these; route modules read them to build answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import string
from typing import Any, Literal, Protocol

import attrs

from ._resources_store import ResourceStore

__all__ = [
    "EVENT_NAMES",
    "Account",
    "CardState",
    "EventSink",
    "Pairing",
    "SimInstance",
    "random_upper",
    "rfc3339",
]

#: Event type names the contract accepts in ``events_subscribe`` (§4.2).
EVENT_NAMES: frozenset[str] = frozenset(
    {
        "All",
        "Connected",
        "Disconnected",
        "Message",
        "ReadReceipt",
        "Presence",
        "HistorySync",
        "ChatPresence",
        "GroupParticipantsAdd",
        "GroupParticipantsRemove",
    }
)

_UPPER_ALNUM = string.ascii_uppercase + string.digits

CardState = Literal["ok", "none", "declined"]


def rfc3339(timestamp: float | None) -> str | None:
    """Format an epoch timestamp as RFC 3339 UTC with a ``Z`` suffix (``None`` stays ``None``).

    Args:
        timestamp: Seconds since the epoch.
    """
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_upper(length: int) -> str:
    """Random upper-case letters and digits (instance ids, pair codes).

    Args:
        length: How many characters.
    """
    return "".join(secrets.choice(_UPPER_ALNUM) for _ in range(length))


class EventSink(Protocol):
    """What the event module installs as ``SimState.events``."""

    def publish(
        self,
        instance: SimInstance,
        event_type: str,
        event: dict[str, Any],
        *,
        data_extra: dict[str, Any] | None = None,
    ) -> object:
        """Deliver one event of an instance (webhook, realtime, logs)."""


@attrs.define(eq=False)
class Account:
    """A customer account.

    Args:
        id: Internal account id.
        client_token: Public account token (``X-Client-Token``, ``POST /token``).
        client_secret: Account secret for ``POST /token``.
        card: Default payment card: ``"ok"``, ``"none"`` or ``"declined"``.
    """

    id: str
    client_token: str = attrs.field(repr=False)
    client_secret: str = attrs.field(repr=False)
    card: CardState = "ok"


@attrs.define(eq=False)
class Pairing:
    """One run of the pairing worker: rotating QR codes and an optional pair code.

    Times are epoch seconds from the state clock. QR attempt ``i`` (0-based) is visible from
    `attempt_start` to `attempt_end`; references are made on first need.

    Args:
        started_at: When the worker flow started (first ``session/qr`` or ``paircode``).
    """

    started_at: float
    references: dict[int, str] = attrs.field(factory=dict)
    pair_code: str | None = None
    pair_code_phone: str | None = None
    pair_code_issued_at: float | None = None
    pair_code_expires_at: float | None = None

    def reference(self, attempt: int) -> str:
        """The QR reference string of an attempt (made on first use).

        Args:
            attempt: 0-based attempt index.
        """
        ref = self.references.get(attempt)
        if ref is None:
            ref = "2@" + secrets.token_urlsafe(24) + f",{attempt}"
            self.references[attempt] = ref
        return ref


@attrs.define(eq=False)
class SimInstance:
    """One instance on the server.

    ``checkout_session`` is the open checkout of a subscribe call (``None`` when none is open);
    ``resources`` holds the resource routes' state (messages, queues, chats, groups,
    integrations), created on first use by `_resources_common.store_of`.
    """

    id: str
    name: str
    token: str = attrs.field(repr=False)
    account: Account
    created_at: float
    updated_at: float
    webhook_url: str = ""
    events_subscribe: list[str] = attrs.field(factory=list)
    reject_calls: bool = False
    auto_read_messages: bool = False
    labels: dict[str, Any] = attrs.field(factory=dict)
    billing_status: str = "TRIALING"
    subscription_id: str | None = None
    subscribed: bool = False
    current_period_end: float | None = None
    cancel_at: float | None = None
    expired_at: float | None = None
    status: str = "created"
    connected: bool | None = None
    connected_at: float | None = None
    phone: str | None = None
    push_name: str | None = None
    profile: dict[str, Any] = attrs.field(factory=dict)
    pairing: Pairing | None = None
    scan_timer: asyncio.TimerHandle | None = attrs.field(default=None, repr=False)
    #: A dropped session comes back on its own at this moment (`Sessions.drop`).
    drop_until: float | None = None
    #: ``"restart"`` or ``"repair"``: the session says connected but delivers nothing until
    #: that cures it (`Sessions.make_zombie`).
    zombie: Literal["restart", "repair"] | None = None
    #: When the phone policy's random trouble was last drawn for this connected instance.
    trouble_checked_at: float | None = None
    checkout_session: str | None = None
    resources: ResourceStore | None = attrs.field(default=None, repr=False)

    @property
    def delivering(self) -> bool:
        """Whether queued sends go out: connected, and not a zombie."""
        return bool(self.connected) and self.zombie is None

    @property
    def whatsapp_jid(self) -> str | None:
        """The connected account's JID, ``<phone>@s.whatsapp.net``."""
        return f"{self.phone}@s.whatsapp.net" if self.phone else None

    @property
    def events_subscribe_text(self) -> str:
        """``events_subscribe`` as the contract's comma-joined string."""
        return ",".join(self.events_subscribe)

    def cancel_scan_timer(self) -> None:
        """Disarm the loop timer of the simulated phone, if one is armed."""
        if self.scan_timer is not None:
            self.scan_timer.cancel()
            self.scan_timer = None
