"""Retry arithmetic: backoff with full jitter, and ``Retry-After`` parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ._config import RetryPolicy

__all__ = ["IDEMPOTENT_METHODS", "backoff_delay", "parse_retry_after"]

# Methods whose replay cannot change the outcome. PUT is left out on purpose:
# `PUT /instances/create` creates (and bills) a new instance on every call.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def backoff_delay(
    policy: RetryPolicy, retry_number: int, rng: random.Random | None = None
) -> float:
    """Return the delay before retry ``retry_number`` (1-based): full jitter under an exp. cap.

    Args:
        policy: The retry policy.
        retry_number: 1 for the first retry.
        rng: Random source (tests pass a seeded one).
    """
    cap = min(policy.max_delay, policy.base_delay * (2 ** (retry_number - 1)))
    return (rng or random).uniform(0.0, cap)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse ``Retry-After``: delta-seconds or an HTTP date. None when absent or unreadable.

    Args:
        value: The header value.
        now: The current time (tests); defaults to the wall clock in UTC.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
