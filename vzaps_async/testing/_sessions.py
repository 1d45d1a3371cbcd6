"""The WhatsApp session of an instance once paired, and its trouble: drops, logouts, zombies and
restarts, on command or at the phone policy's random rates (a piece of `SimState`).
"""

from __future__ import annotations

import asyncio
import secrets
import string
from typing import TYPE_CHECKING, Literal

import attrs

from ._http import SimError
from ._model import SimInstance

if TYPE_CHECKING:
    from ._state import SimState

__all__ = ["Sessions"]


@attrs.define(eq=False)
class Sessions:
    """Connects, disconnects and troubles sessions, publishing ``Connected``/``Disconnected``.

    Args:
        state: The state this piece belongs to (clock, counters, phone policy, events).
    """

    state: SimState = attrs.field(repr=False)

    def settle(self, instance: SimInstance, now: float) -> None:
        """Bring back a dropped session whose outage is over, and draw the phone's random
        trouble for the connected time since the last look.

        Args:
            instance: The instance.
            now: The state clock's time.
        """
        if instance.drop_until is not None and now >= instance.drop_until:
            instance.drop_until = None
            if not instance.connected and instance.pairing is None:
                self._reconnect(instance, now)
        if self.state.phones.troubled:
            if instance.connected and instance.zombie is None:
                self._random_trouble(instance, now)
            else:
                instance.trouble_checked_at = None  # only connected time counts

    def connect(self, instance: SimInstance, *, phone: str | None) -> None:
        """Pairing completed: the session is connected (publishes ``Connected``).

        Args:
            instance: The instance.
            phone: The paired phone number; ``None`` keeps the known one or makes one up.
        """
        now = self.state.clock()
        self.state.pairing.stop(instance)
        instance.drop_until = None
        instance.zombie = None
        if phone is None:
            phone = instance.phone or "5511" + "".join(
                secrets.choice(string.digits) for _ in range(9)
            )
        instance.phone = phone
        instance.push_name = instance.push_name or instance.name
        instance.connected = True
        instance.connected_at = now
        instance.status = "connected"
        instance.updated_at = now
        self.state.counters.paired(instance.id)
        self._announce_connected(instance)

    def disconnect(self, instance: SimInstance, reason: str = "logout") -> None:
        """Log the WhatsApp session out (publishes ``Disconnected`` if it was connected).

        Args:
            instance: The instance.
            reason: Reason put in the event.
        """
        was_connected = bool(instance.connected)
        self.state.pairing.stop(instance)
        instance.drop_until = None
        instance.zombie = None
        instance.connected = False
        instance.status = "disconnected"
        instance.updated_at = self.state.clock()
        if was_connected:
            self.state.publish(instance, "Disconnected", {"reason": reason})

    def logout(self, instance: SimInstance) -> None:
        """The phone unlinks the session: it is gone, and only a new QR or pair code brings it back.

        Args:
            instance: The instance (must be connected).
        """
        self._require_connected(instance)
        self.state.counters.misbehaved("logouts", instance.id)
        self.disconnect(instance, reason="logout")

    def drop(self, instance: SimInstance, seconds: float) -> None:
        """The session drops (``Disconnected``) and comes back by itself after ``seconds``.

        Args:
            instance: The instance (must be connected).
            seconds: How long the outage lasts.
        """
        if seconds < 0:
            raise SimError(400, "VALIDATION_ERROR", "seconds: must be >= 0")
        self._require_connected(instance)
        now = self.state.clock()
        instance.connected = False
        instance.status = "disconnected"
        instance.drop_until = now + seconds
        instance.updated_at = now
        self.state.counters.misbehaved("drops", instance.id)
        self.state.publish(instance, "Disconnected", {"reason": "connection lost"})
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        # The phone's recovery fires its Connected event on time, not at the next request.
        loop.call_later(seconds, self.state.wake, instance)

    def make_zombie(self, instance: SimInstance, cured_by: Literal["restart", "repair"]) -> None:
        """The session keeps saying connected but delivers nothing and sends no events.

        Args:
            instance: The instance (must be connected).
            cured_by: ``"restart"`` (a runtime restart cures it) or ``"repair"`` (only a
                logout and a new pairing do).
        """
        self._require_connected(instance)
        instance.zombie = cured_by
        self.state.counters.misbehaved("zombies", instance.id)

    def restart(self, instance: SimInstance) -> None:
        """Restart the instance's runtime: cures a zombie that a restart cures (keeps the session).

        Args:
            instance: The instance.
        """
        self.state.counters.misbehaved("restarts", instance.id)
        instance.updated_at = self.state.clock()
        if instance.zombie == "restart":
            instance.zombie = None
            self._announce_connected(instance)

    def _random_trouble(self, instance: SimInstance, now: float) -> None:
        """Apply the phone policy's fleet-wide trouble drawn for the time since the last look."""
        since, instance.trouble_checked_at = instance.trouble_checked_at, now
        if since is None or now <= since:
            return
        phones = self.state.phones
        kind = phones.trouble(now - since, self.state.rng)
        if kind == "logout":
            self.state.counters.misbehaved("logouts", instance.id)
            self.disconnect(instance, reason="logout")
        elif kind == "zombie":
            self.make_zombie(instance, "restart")
        elif kind == "drop":
            self.drop(instance, phones.drop_seconds)

    def _require_connected(self, instance: SimInstance) -> None:
        self.state.refresh(instance)
        if not instance.connected:
            raise SimError(409, "NOT_CONNECTED", "instance is not connected to WhatsApp")

    def _reconnect(self, instance: SimInstance, now: float) -> None:
        instance.connected = True
        instance.status = "connected"
        instance.updated_at = now
        self._announce_connected(instance)

    def _announce_connected(self, instance: SimInstance) -> None:
        self.state.publish(
            instance,
            "Connected",
            {
                "phone": instance.phone,
                "jid": instance.whatsapp_jid,
                "push_name": instance.push_name,
            },
        )
