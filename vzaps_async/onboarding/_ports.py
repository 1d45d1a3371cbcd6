"""The slice of the client that onboarding uses, as structural protocols.

`vzaps_async.Client` satisfies `OnboardingClient`; tests may pass any object with the same shape.
Besides the calls, onboarding needs two things from the client's transport: its 429 cool-down
(shared, so one 429 anywhere pauses the fleet and the client's other callers alike) and a way to
bound one call in time (the client's own `RequestDeadline`, which rides on aiohttp's timer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from vzaps_async._limits import CoolDown
from vzaps_async._secret import Secret
from vzaps_async.models.billing import Subscription
from vzaps_async.models.common import StatusResult
from vzaps_async.models.instances import InstanceInfo
from vzaps_async.models.session import PairCode, QRCode, SessionStatus

__all__ = [
    "InstanceHandlePort",
    "InstancesPort",
    "OnboardingClient",
    "SessionPort",
    "TransportPort",
]


class TransportPort(Protocol):
    """What onboarding needs from the client's transport."""

    @property
    def cooldown(self) -> CoolDown:
        """The client-wide 429 cool-down every request waits at."""
        ...

    def deadline(self, seconds: float) -> AbstractContextManager[object]:
        """A block in which every request of this client ends within ``seconds``.

        Args:
            seconds: Time allowed from entering the block.
        """
        ...


class InstancesPort(Protocol):
    """Account-level instance and billing calls."""

    async def create(
        self,
        name: str,
        *,
        webhook: str | None = None,
        events: Any = None,
        reject_calls: bool | None = None,
        auto_read_messages: bool | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> InstanceInfo:
        """Create an instance (costs money)."""
        ...

    def iter(self, *, page_size: int = 100) -> AsyncIterator[InstanceInfo]:
        """Every instance of the account, page by page (a fleet's inventory)."""
        ...

    async def find_by_name(self, name: str) -> tuple[InstanceInfo, ...]:
        """Instances whose name is exactly ``name``."""
        ...

    async def get(self, instance_id: str) -> InstanceInfo:
        """One instance's summary."""
        ...

    async def subscribe(self, instance_id: str) -> Subscription:
        """Start billing (charges the card)."""
        ...

    async def cancel(self, instance_id: str) -> StatusResult:
        """Cancel now or at period end."""
        ...

    async def resume(self, instance_id: str) -> object:
        """Reverse a scheduled cancellation (the answer is not used)."""
        ...


class SessionPort(Protocol):
    """Pairing calls of one instance."""

    async def qr(self) -> QRCode:
        """The current QR (the first call starts the worker)."""
        ...

    async def pair_code(self, phone: str) -> PairCode:
        """A pair code for ``phone``."""
        ...

    async def status(self) -> SessionStatus:
        """Whether WhatsApp is linked."""
        ...


class InstanceHandlePort(Protocol):
    """A handle bound to one instance."""

    @property
    def session(self) -> SessionPort:
        """Pairing calls."""
        ...


class OnboardingClient(Protocol):
    """What `Onboarding` and `Fleet` need from a client."""

    @property
    def transport(self) -> TransportPort:
        """The cool-down and deadline support."""
        ...

    @property
    def instances(self) -> InstancesPort:
        """Account-level instance calls."""
        ...

    def instance(self, instance_id: str, token: str | Secret | None = None) -> InstanceHandlePort:
        """A handle bound to one instance."""
        ...
