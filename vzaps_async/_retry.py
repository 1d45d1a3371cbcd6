"""When to try again, and how long to wait: the one backoff and the one failure classification.

Every layer that retries uses this module: the transport (each request's attempts), the
onboarding driver (whole calls and reconciliation) and the realtime stream (reconnects). They
share one backoff, exponential with full jitter (`full_jitter`), and the layers above the
transport share one reading of a failure:

- `REFUSED`: the server answered and retrying the same request cannot change the answer;
- `NOT_APPLIED`: the request provably had no effect (a 429, a connection never made, a deadline
  that passed before it was sent), so even a
  call that costs money may be sent again as it is;
- `UNKNOWN`: anything else from the network; a call that costs money may have been applied and
  must be reconciled with the server before it is sent again.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from ._config import RetryPolicy
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    InputError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitedError,
    RequestNotSent,
    VZapsError,
)

__all__ = [
    "FATAL",
    "IDEMPOTENT_METHODS",
    "NOT_APPLIED",
    "REFUSED",
    "UNKNOWN",
    "backoff_delay",
    "full_jitter",
    "parse_retry_after",
]

#: Refusals that no retry and no wait can fix (an `InputError` is raised before any request).
FATAL: Final = (
    AuthenticationError,
    PermissionDeniedError,
    PaymentRequiredError,
    BadRequestError,
    InputError,
)
#: Answers that retrying the same request cannot change.
REFUSED: Final = (*FATAL, NotFoundError, ConflictError)
#: Failures that prove the request was not applied.
NOT_APPLIED: Final = (RateLimitedError, ConnectError, RequestNotSent)
#: Anything else from the network: the request may or may not have been applied.
UNKNOWN: Final = (VZapsError, TimeoutError, OSError)

# Methods whose replay cannot change the outcome. PUT is left out on purpose:
# `PUT /instances/create` creates (and bills) a new instance on every call.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def full_jitter(
    retry_number: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Return a delay drawn uniformly below ``base * 2 ** (retry_number - 1)``, at most ``cap``.

    Full jitter spreads the retries of many callers that failed together, so they do not come
    back in lockstep.

    Args:
        retry_number: 1 for the first retry.
        base: The first retry's largest delay, in seconds.
        cap: The largest delay of any retry, in seconds.
        rng: Random source (tests pass a seeded one).
    """
    exponent = min(max(retry_number - 1, 0), 32)  # 2**32 * base is past any cap already
    return (rng or random).uniform(0.0, min(cap, base * 2**exponent))


def backoff_delay(
    policy: RetryPolicy, retry_number: int, rng: random.Random | None = None
) -> float:
    """Return the delay before retry ``retry_number`` (1-based) under a `RetryPolicy`.

    Args:
        policy: The retry policy.
        retry_number: 1 for the first retry.
        rng: Random source (tests pass a seeded one).
    """
    return full_jitter(retry_number, base=policy.base_delay, cap=policy.max_delay, rng=rng)


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
