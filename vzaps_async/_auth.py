"""The account JWT: fetched from ``POST /token``, cached until shortly before expiry, refreshed by
exactly one caller at a time however many are waiting (single flight)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["TokenManager"]

Fetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenManager:
    """Caches the JWT and refreshes it single-flight.

    Args:
        fetch: Coroutine function returning ``(access_token, expires_in_seconds)``.
        skew: Seconds before expiry at which the token counts as expired.
    """

    __slots__ = ("_expires_at", "_fetch", "_lock", "_skew", "_token")

    def __init__(self, fetch: Fetch, *, skew: float) -> None:
        self._fetch = fetch
        self._skew = skew
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def current(self) -> str | None:
        """Return the cached token when it is still fresh, else None (no I/O)."""
        if self._token is not None and time.monotonic() < self._expires_at:
            return self._token
        return None

    async def get(self) -> str:
        """Return a fresh token, fetching one if needed; concurrent callers share one fetch."""
        token = self.current()
        if token is not None:
            return token
        async with self._lock:
            # Whoever held the lock before us may have refreshed already.
            token = self.current()
            if token is not None:
                return token
            token, expires_in = await self._fetch()
            # A lifetime shorter than the skew would make every token stale on arrival; keep at
            # least half of it usable.
            margin = min(self._skew, expires_in / 2)
            self._token = token
            self._expires_at = time.monotonic() + expires_in - margin
            return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the server refused it (401), unless a newer one replaced it.

        Args:
            token: The token that was refused.
        """
        if self._token == token:
            self._token = None
            self._expires_at = 0.0
