"""`Slots`: the limit on calls in flight every request of a client and a fleet passes."""

from __future__ import annotations

import asyncio
import random

import pytest

from vzaps_async._limits import Slots


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
