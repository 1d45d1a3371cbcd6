"""In-memory state of the simulator: the settings every piece reads, and the pieces.

Each piece has one job and is reached as an attribute: `accounts` (accounts and JWTs),
`registry` (instances by id, token and name), `pairing` (QR codes, pair codes, simulated phones),
`sessions` (connect, disconnect, drop, logout, zombie, restart) and `billing` (subscribe, cancel,
resume). Route modules call the piece they need. The pieces reach the shared settings and each
other through this state, because tests swap ``config``, ``phones`` and ``events`` at run time.

Everything time-dependent (JWT expiry, QR rotation, scheduled cancellations, simulated phones) is
computed lazily from timestamps read through ``SimState.clock`` when an instance is looked at
(`refresh`), so that ten thousand instances cost no background tasks. Tests inject a
`ManualClock` to move time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

from ._accounts import Accounts
from ._billing import Billing
from ._config import SimulatorConfig
from ._counters import Counters
from ._faults import Faults
from ._model import EventSink, SimInstance
from ._pairing import Pairings
from ._phones import PhonePolicy
from ._registry import Registry
from ._sessions import Sessions

__all__ = ["STATE_KEY", "SimState"]


@attrs.define(eq=False)
class SimState:
    """Everything the simulator knows, shared by all route modules.

    Args:
        config: Behaviour settings.
        phones: How simulated phones react to QR codes and pair codes.
        faults: Fault-injection rules.
        clock: Epoch-seconds clock (``time.time`` by default; a `ManualClock` in tests).
    """

    config: SimulatorConfig = attrs.field(factory=SimulatorConfig)
    phones: PhonePolicy = attrs.field(factory=PhonePolicy.manual)
    faults: Faults = attrs.field(factory=Faults)
    clock: Callable[[], float] = time.time
    counters: Counters = attrs.field(factory=Counters)
    #: Random source of the phones' fleet-wide trouble.
    rng: random.Random = attrs.field(factory=random.Random)
    #: Set by the events module's ``setup``; receives every event through `publish`.
    events: EventSink | None = None
    accounts: Accounts = attrs.field(init=False)
    registry: Registry = attrs.field(init=False)
    pairing: Pairings = attrs.field(init=False)
    sessions: Sessions = attrs.field(init=False)
    billing: Billing = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.accounts = Accounts(self)
        self.registry = Registry(self)
        self.pairing = Pairings(self)
        self.sessions = Sessions(self)
        self.billing = Billing(self)

    def publish(
        self,
        instance: SimInstance,
        event_type: str,
        event: dict[str, Any],
        *,
        data_extra: dict[str, Any] | None = None,
    ) -> None:
        """Hand an event of an instance to the event module, if one is installed.

        Args:
            instance: The instance the event belongs to.
            event_type: Contract event name (``Connected``, ``Disconnected``, ``Message``, ...).
            event: The inner event payload (``data.event`` on the wire).
            data_extra: Fields that sit beside ``event`` in ``data`` (a receipt's ``state``).
        """
        if self.events is not None:
            self.events.publish(instance, event_type, event, data_extra=data_extra)

    def refresh(self, instance: SimInstance) -> None:
        """Apply everything that became due since the instance was last looked at.

        Scheduled cancellations take effect, dropped sessions come back, simulated phones
        misbehave (the policy's trouble rates), scan or type codes that are due, and a pairing
        whose last QR expired is given up.

        Args:
            instance: The instance.
        """
        now = self.clock()
        self.billing.settle(instance, now)
        self.sessions.settle(instance, now)
        self.pairing.settle(instance, now)

    def wake(self, instance: SimInstance) -> None:
        """A loop timer of the instance fired: refresh it, unless it was deleted meanwhile.

        Args:
            instance: The instance.
        """
        if self.registry.holds(instance):
            self.refresh(instance)


#: Where the app keeps its `SimState` (``request.app[STATE_KEY]``).
STATE_KEY: web.AppKey[SimState] = web.AppKey("vzaps_sim_state", SimState)
