"""Options and helpers shared by the onboarding tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import anyio

from vzaps_async.onboarding import OnboardingOptions
from vzaps_async.testing import Simulator

#: Polls, backoffs and retries in milliseconds, so a simulated fleet onboards at once.
FAST = OnboardingOptions(poll_interval=0.02, deadline=60, backoff_base=0.01, backoff_max=0.2)


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait until ``condition()`` holds (it reads state that changes without notifying anyone).

    Args:
        condition: What to wait for.
        seconds: How long at most.
    """
    with anyio.fail_after(seconds):
        for _ in iter(condition, True):
            await anyio.sleep(0.05)


@contextlib.asynccontextmanager
async def scanning(sim: Simulator) -> AsyncIterator[None]:
    """Scan every QR shown while the block runs (a person with every phone at hand).

    Args:
        sim: The simulator whose instances are scanned.
    """
    async with anyio.create_task_group() as tg:

        async def scan_all() -> None:
            while True:
                for instance_id in list(sim.state.registry.instances):
                    with contextlib.suppress(Exception):  # not pairing: nothing to scan
                        await sim.scan(instance_id)
                await anyio.sleep(0.02)

        tg.start_soon(scan_all)
        yield
        tg.cancel_scope.cancel()
