"""Pacing shared by every caller of one client: a 429 cool-down gate and a requests/s limit.

Both are deliberately tiny: they sit on the request hot path, so the common case (no cool-down, no
rate limit) costs one clock read and one comparison.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["CoolDown", "RateLimiter"]


class CoolDown:
    """A gate that one 429 closes for everyone until its ``Retry-After`` has passed.

    Args:
        enabled: False makes `wait` return at once (tests that turn sleeping off).
    """

    __slots__ = ("_enabled", "on_pause", "pauses", "until")

    def __init__(self, *, enabled: bool = True) -> None:
        self._enabled = enabled
        #: Monotonic time at which the gate opens (0: never closed); a cheap check for hot paths.
        self.until = 0.0
        #: How many times the gate was closed (reports show it).
        self.pauses = 0
        #: Called with the seconds of each pause of this process (a shared job passes them on).
        self.on_pause: Callable[[float], None] | None = None

    def pause(self, seconds: float, *, share: bool = True) -> None:
        """Close the gate for ``seconds`` from now (never shortens a longer pause already set).

        Args:
            seconds: How long every caller waits.
            share: False for a pause that came from elsewhere (not handed to ``on_pause``).
        """
        self.pauses += 1
        self.until = max(self.until, time.monotonic() + max(0.0, seconds))
        if share and self.on_pause is not None:
            self.on_pause(seconds)

    @property
    def remaining(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self.until - time.monotonic())

    async def wait(self) -> None:
        """Wait until the gate is open."""
        if not self._enabled:
            return
        # Sleeping to a deadline, not polling: a later pause() extends the deadline, so loop.
        while (delay := self.until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)


class RateLimiter:
    """At most ``rate`` requests per second, with bursts of up to ``burst`` (GCRA).

    Args:
        rate: Requests per second.
        burst: Requests that may go at once after an idle period.
    """

    __slots__ = ("_burst", "_burst_window", "_interval", "_tat")

    def __init__(self, rate: float, burst: int = 1) -> None:
        self._burst = max(0, burst - 1)
        self._tat = 0.0  # theoretical arrival time of the next request
        self.rate = rate

    @property
    def rate(self) -> float:
        """Requests per second; may be changed while requests wait (a shared job's budget)."""
        return 1.0 / self._interval

    @rate.setter
    def rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self._interval = 1.0 / rate
        self._burst_window = self._interval * self._burst

    async def acquire(self) -> None:
        """Wait for this caller's slot."""
        now = time.monotonic()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        delay = tat - self._burst_window - now
        if delay > 0:
            await asyncio.sleep(delay)
