"""Options and helpers shared by the onboarding tests."""

from __future__ import annotations

from collections.abc import Callable

import anyio

from vzaps_async.onboarding import OnboardingOptions

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
