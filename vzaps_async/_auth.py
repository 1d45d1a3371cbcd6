"""The account JWT: fetched from ``POST /token``, cached until shortly before expiry, refreshed by
exactly one caller at a time however many are waiting (single flight), whose outcome, a failure
included, answers every caller that waited for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["TokenManager"]

Fetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenManager:
    """Caches the JWT and refreshes it single-flight.

    Callers that ask while a refresh is under way share its outcome: its token, or its error
    (refused credentials are not asked again once per waiter). A call after a failed refresh
    starts a new one. Should the caller running the refresh be cancelled, one of those waiting
    runs it instead: they were not cancelled.

    Args:
        fetch: Coroutine function returning ``(access_token, expires_in_seconds)``.
        skew: Seconds before expiry at which the token counts as expired.
    """

    __slots__ = ("_expires_at", "_fetch", "_flight", "_skew", "_token")

    def __init__(self, fetch: Fetch, *, skew: float) -> None:
        self._fetch = fetch
        self._skew = skew
        self._token: str | None = None
        self._expires_at = 0.0
        #: The refresh under way, if any: what its waiters await.
        self._flight: asyncio.Future[str] | None = None

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
        while (flight := self._flight) is not None:
            try:
                # Shielded: a waiter's own cancellation must not cancel the others' refresh.
                return await asyncio.shield(flight)
            except asyncio.CancelledError:
                if not flight.cancelled():
                    raise  # this caller was cancelled
                # The caller running the refresh was cancelled: refresh again, or wait again.
        return await self._refresh()

    async def _refresh(self) -> str:
        flight: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._flight = flight
        try:
            token, expires_in = await self._fetch()
        except Exception as exc:
            flight.set_exception(exc)
            flight.exception()  # marked retrieved: with no waiter asyncio would log it as lost
            raise
        except BaseException:
            flight.cancel()
            raise
        finally:
            self._flight = None
        # A lifetime shorter than the skew would make every token stale on arrival; keep at
        # least half of it usable.
        margin = min(self._skew, expires_in / 2)
        self._token = token
        self._expires_at = time.monotonic() + expires_in - margin
        flight.set_result(token)
        return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the server refused it (401), unless a newer one replaced it.

        Args:
            token: The token that was refused.
        """
        if self._token == token:
            self._token = None
            self._expires_at = 0.0
