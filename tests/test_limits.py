"""`Slots`, the limit on calls in flight every request of a client and a fleet passes, and
`RateLimiter`, its requests per second."""

from __future__ import annotations

import asyncio
import random

import pytest

from vzaps_async._limits import RateLimiter, Slots


async def _hold(slots: Slots, seconds: float, log: list[int], name: int) -> None:
    async with slots:
        log.append(name)
        await asyncio.sleep(seconds)


class _Occupancy:
    """Holders inside a `Slots` now and at most, for tasks that go through `hold`."""

    def __init__(self, slots: Slots) -> None:
        self.slots = slots
        self.inside = self.peak = 0

    async def hold(self, seconds: float) -> None:
        async with self.slots:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            try:
                await asyncio.sleep(seconds)
            finally:
                self.inside -= 1


async def test_no_more_than_size_holders_at_once() -> None:
    """Twenty tasks through three slots never have more than three inside at a time."""
    slots = Slots(3)
    occupancy = _Occupancy(slots)
    await asyncio.gather(*(occupancy.hold(0.001) for _ in range(20)))
    assert occupancy.peak == 3
    assert slots._free == 3


async def test_waiters_are_served_in_arrival_order_and_newcomers_queue_behind() -> None:
    """A released slot goes to the longest waiter, even when a newcomer asks at that moment."""
    slots = Slots(1)
    order: list[int] = []
    first = asyncio.create_task(_hold(slots, 0.01, order, 0))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(_hold(slots, 0, order, n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    await first
    # The slot is on its way to waiter 1; a newcomer now must not take it.
    late = asyncio.create_task(_hold(slots, 0, order, 4))
    await asyncio.gather(*waiters, late)
    assert order == [0, 1, 2, 3, 4]


async def test_a_waiter_cancelled_while_waiting_leaves_the_queue() -> None:
    """Cancelling a task waiting for a slot takes it out of the queue and loses no slot."""
    slots = Slots(1)
    order: list[int] = []
    holder = asyncio.create_task(_hold(slots, 0.01, order, 0))
    await asyncio.sleep(0)
    doomed = asyncio.create_task(_hold(slots, 0, order, 1))
    after = asyncio.create_task(_hold(slots, 0, order, 2))
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.sleep(0)
    assert len(slots._waiters) == 1  # only `after` waits now
    await asyncio.gather(holder, after)
    assert doomed.cancelled()
    assert order == [0, 2]
    assert slots._free == 1


async def test_a_waiter_cancelled_after_it_was_handed_a_slot_passes_it_on() -> None:
    """A slot handed to a waiter that is cancelled before it runs goes to the next waiter."""
    slots = Slots(1)
    order: list[int] = []
    await slots.__aenter__()
    handed = asyncio.create_task(_hold(slots, 0, order, 1))
    next_one = asyncio.create_task(_hold(slots, 0, order, 2))
    await asyncio.sleep(0)
    await slots.__aexit__(None, None, None)  # the slot goes to `handed`, which has not run yet
    handed.cancel()
    async with asyncio.timeout(5):  # a lost slot would leave next_one waiting for ever
        await asyncio.gather(handed, next_one, return_exceptions=True)
    assert handed.cancelled()
    assert order == [2]
    assert slots._free == 1


async def test_random_cancellations_never_lose_or_add_a_slot() -> None:
    """Under random cancellations of holders and waiters, the slots in use end at zero and the
    limit holds throughout."""
    rng = random.Random(16)
    slots = Slots(4)
    occupancy = _Occupancy(slots)
    tasks = [asyncio.create_task(occupancy.hold(rng.random() / 500)) for _ in range(300)]
    for _ in range(60):
        await asyncio.sleep(rng.random() / 1000)
        rng.choice(tasks).cancel()
    async with asyncio.timeout(5):  # a lost slot would leave waiters waiting for ever
        await asyncio.gather(*tasks, return_exceptions=True)
    assert occupancy.peak <= 4
    assert slots._free == 4
    async with slots:  # and a slot is still there to take at once
        assert slots._free == 3


def test_size_below_one_is_refused() -> None:
    """Zero slots would block every caller for ever, so it is refused by name."""
    with pytest.raises(ValueError, match="size must be at least 1"):
        Slots(0)


async def test_rate_limiter_callers_cancelled_while_waiting_give_their_turns_back() -> None:
    """At 2 requests/s, five callers cancelled while queued take no turn: the next caller waits
    only for the turn after the one that went, not behind theirs."""
    limiter = RateLimiter(2)
    await limiter.acquire()
    queued = [asyncio.create_task(limiter.acquire()) for _ in range(5)]
    await asyncio.sleep(0)
    assert limiter.delay() > 2.0  # five turns queued ahead of a newcomer
    for task in queued:
        task.cancel()
    await asyncio.gather(*queued, return_exceptions=True)
    assert limiter.delay() <= 0.5
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(5):
        await limiter.acquire()
    assert loop.time() - started < 1.0  # generous: the turn was due within 0.5 s


async def test_rate_limiter_serves_waiters_in_order_when_the_first_is_cancelled() -> None:
    """A queued caller cancelled while first in line passes its turn to the next in line, and the
    rest are still served first come, first served."""
    limiter = RateLimiter(100)
    order: list[int] = []

    async def one(name: int) -> None:
        await limiter.acquire()
        order.append(name)

    await limiter.acquire()
    tasks = [asyncio.create_task(one(n)) for n in range(4)]
    await asyncio.sleep(0)
    tasks[0].cancel()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks, return_exceptions=True)
    assert order == [1, 2, 3]
    assert not limiter._waiters
