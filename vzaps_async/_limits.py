"""Pacing shared by every caller of one client: a 429 cool-down gate, a requests/s limit, and
`Slots`, the limit on calls in flight.

All are deliberately tiny: they sit on the request hot path, so the common case (no cool-down, no
rate limit, a free slot) costs a comparison or two.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

__all__ = ["CoolDown", "RateLimiter", "Slots"]


class Slots:
    """At most ``size`` holders at once (``async with slots:``), served first come, first served.

    What `asyncio.Semaphore` does, at a fraction of its cost on the hot path: taking a free slot
    is a comparison and a decrement, with no event-loop lookup (a system call in Python 3.11) and
    no scan of the waiters. A released slot is handed straight to the longest waiter, so a newcomer
    cannot overtake the queue; a waiter cancelled after it was handed a slot passes it on.

    Args:
        size: Holders allowed at once (at least 1).
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size!r}")
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot, then cancelled before it could use it
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # skip the cancelled
                waiter.set_result(None)  # the slot passes over; the free count stays
                return
        self._free += 1


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

    Callers that must wait queue first come, first served, and only the first of them sleeps, so
    a caller cancelled while waiting takes no turn: the next caller gets it.

    Args:
        rate: Requests per second.
        burst: Requests that may go at once after an idle period.
    """

    __slots__ = ("_burst", "_burst_window", "_interval", "_tat", "_waiters")

    def __init__(self, rate: float, burst: int = 1) -> None:
        self._burst = max(0, burst - 1)
        self._tat = 0.0  # theoretical arrival time of the next request
        self._waiters: deque[asyncio.Future[None]] = deque()
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

    def delay(self) -> float:
        """Seconds a caller asking now would wait for its turn (0 for at once), unless a caller
        queued ahead of it gives its turn back."""
        now = time.monotonic()
        turn = max(self._tat, now) + len(self._waiters) * self._interval
        return max(0.0, turn - self._burst_window - now)

    async def acquire(self) -> None:
        """Wait for this caller's turn."""
        if not self._waiters:
            now = time.monotonic()
            tat = max(self._tat, now)
            if tat - self._burst_window <= now:
                self._tat = tat + self._interval
                return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters
        waiters.append(waiter)
        try:
            if waiters[0] is not waiter:
                await waiter  # set by the caller ahead once it has its turn or is cancelled
            now = time.monotonic()
            tat = max(self._tat, now)
            delay = tat - self._burst_window - now
            if delay > 0:
                await asyncio.sleep(delay)
            self._tat = tat + self._interval
        finally:
            head = waiters[0] is waiter
            waiters.remove(waiter)
            if head and waiters and not waiters[0].done():
                waiters[0].set_result(None)
