"""Billing of an instance: subscription, cancellation now or at period end, and resume
(a piece of `SimState`).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import attrs

from ._http import SimError
from ._model import SimInstance, rfc3339

if TYPE_CHECKING:
    from ._state import SimState

__all__ = ["Billing"]


@attrs.define(eq=False)
class Billing:
    """Moves an instance's ``billing_status``; an ended subscription stops its session.

    Args:
        state: The state this piece belongs to (clock, billing settings, counters, sessions).
    """

    state: SimState = attrs.field(repr=False)

    def settle(self, instance: SimInstance, now: float) -> None:
        """Apply a scheduled cancellation whose moment has come.

        Args:
            instance: The instance.
            now: The state clock's time.
        """
        if instance.cancel_at is not None and now >= instance.cancel_at:
            self._expire(instance, instance.cancel_at)

    def activate(self, instance: SimInstance) -> str:
        """Make an instance's subscription active (after a direct charge or a completed
        checkout); returns the new subscription id.

        Args:
            instance: The instance.
        """
        now = self.state.clock()
        instance.subscription_id = "sub_" + secrets.token_hex(12)
        instance.subscribed = True
        instance.billing_status = "ACTIVE"
        instance.current_period_end = now + self.state.config.billing_period_seconds
        instance.cancel_at = None
        instance.expired_at = None
        if instance.status == "stopped":
            instance.status = "created" if instance.connected is None else "disconnected"
        instance.checkout_session = None
        instance.updated_at = now
        self.state.counters.subscribed(instance.id)
        return instance.subscription_id

    def cancel(self, instance: SimInstance) -> str:
        """Cancel now or at period end (per config); returns the answer's message.

        Args:
            instance: The instance.
        """
        if instance.billing_status == "CANCELED":
            raise SimError(409, "ALREADY_CANCELED", "instance is already canceled")
        cfg = self.state.config
        mode = cfg.cancel_subscribed if instance.subscribed else cfg.cancel_trialing
        now = self.state.clock()
        if mode == "immediate" or instance.current_period_end is None:
            self._expire(instance, now)
            return "Instance canceled successfully"
        instance.cancel_at = instance.current_period_end
        instance.updated_at = now
        return f"Instance cancellation scheduled for {rfc3339(instance.cancel_at)}"

    def resume(self, instance: SimInstance) -> None:
        """Clear a scheduled cancellation, or raise 409 when none is scheduled.

        Args:
            instance: The instance.
        """
        if instance.cancel_at is None:
            raise SimError(409, "NO_SCHEDULED_CANCEL", "no cancellation is scheduled")
        instance.cancel_at = None
        instance.updated_at = self.state.clock()

    def _expire(self, instance: SimInstance, at: float) -> None:
        instance.billing_status = "CANCELED"
        instance.expired_at = at
        instance.cancel_at = None
        instance.updated_at = at
        if instance.connected:
            self.state.sessions.disconnect(instance, reason="expired")
        self.state.pairing.stop(instance)
        instance.status = "stopped"
