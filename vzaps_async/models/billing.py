"""Billing models."""

from __future__ import annotations

import enum

import attrs

__all__ = ["Subscription", "SubscriptionMode"]


class SubscriptionMode(enum.StrEnum):
    """How a subscription is paid: charged to the default card, or via a hosted checkout page."""

    DIRECT = "direct"
    CHECKOUT = "checkout"


@attrs.frozen
class Subscription:
    """The response of `POST /instances/{id}/subscribe` (a billing hosted session).

    Args:
        url: Hosted checkout page to visit (``checkout`` mode); None in ``direct`` mode.
        session_id: Checkout session id (``checkout`` mode).
        mode: `SubscriptionMode`, or the raw string for unknown values.
        subscription_id: The subscription created (``direct`` mode).
    """

    url: str | None = None
    session_id: str | None = None
    mode: SubscriptionMode | str | None = None
    subscription_id: str | None = None

    @property
    def needs_checkout(self) -> bool:
        """True when the subscription is only complete after someone pays at `url`."""
        return self.mode == SubscriptionMode.CHECKOUT
