"""Onboarding options shared by the onboarding tests."""

from __future__ import annotations

from vzaps_async.onboarding import OnboardingOptions

#: Polls, backoffs and retries in milliseconds, so a simulated fleet onboards at once.
FAST = OnboardingOptions(poll_interval=0.02, deadline=60, backoff_base=0.01, backoff_max=0.2)
