"""Pacing shared by every onboarding of a fleet: a 429 cool-down and a request-rate gate."""

from __future__ import annotations

import anyio
import attrs

__all__ = ["CoolDown", "RateGate"]


@attrs.define
class CoolDown:
    """A gate that one 429 closes for everybody until its ``Retry-After`` has passed.

    Each task calls `wait` before a request; a task that receives a 429 calls `trigger`, and from
    then on every task of the fleet waits, instead of each finding the limit on its own.
    """

    _until: float = 0.0
    triggered: int = 0

    def trigger(self, seconds: float) -> None:
        """Close the gate for ``seconds`` from now (never shortens a longer pause).

        Args:
            seconds: How long to pause, typically the server's ``Retry-After``.
        """
        self.triggered += 1
        self._until = max(self._until, anyio.current_time() + max(0.0, seconds))

    @property
    def remaining(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._until - anyio.current_time())

    async def wait(self) -> None:
        """Return once the gate is open."""
        # A later trigger may extend the pause while we sleep: look again after each wait.
        while True:
            left = self._until - anyio.current_time()
            if left <= 0:
                return
            await anyio.sleep(left)


@attrs.define
class RateGate:
    """Spaces requests evenly so that at most ``per_second`` start in any second.

    Args:
        per_second: Requests per second, > 0.
    """

    per_second: float = attrs.field()
    _next: float = 0.0

    @per_second.validator
    def _check(self, attribute: attrs.Attribute[float], value: float) -> None:
        if value <= 0:
            raise ValueError(f"per_second must be > 0, got {value!r}")

    async def acquire(self) -> None:
        """Wait for this request's slot."""
        now = anyio.current_time()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.per_second
        if slot > now:
            await anyio.sleep(slot - now)
