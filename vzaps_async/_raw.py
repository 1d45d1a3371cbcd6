"""Raw responses: the HTTP status, headers and request id beside the parsed model of a call.

`Client.raw` sets a recorder in a context variable, awaits the call, and returns what the
transport recorded there: one `HTTPExchange` per response the call received. Outside `raw` the
transport reads the variable once per response and records nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Generic, TypeVar

import attrs

__all__ = ["HTTPExchange", "RawResponse", "recording"]

T = TypeVar("T")


@attrs.frozen
class HTTPExchange:
    """One HTTP response a call received.

    Args:
        method: HTTP method.
        path: Request path.
        status: HTTP status.
        headers: The response headers (read-only).
        request_id: The ``X-Request-Id`` response header, when the server sent one.
    """

    method: str
    path: str
    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None = None


@attrs.frozen
class RawResponse(Generic[T]):
    """A call's parsed result with the HTTP responses behind it (`Client.raw`).

    ``status``, ``headers`` and ``request_id`` are those of the call's last response other than
    a JWT fetch (``POST /token``); ``exchanges`` lists every response in order, retries, token
    fetches and read-backs (a webhook set reads the webhook back) included.

    Args:
        parsed: What the call returned.
        exchanges: Every response the call received, in order.
    """

    parsed: T
    exchanges: tuple[HTTPExchange, ...]

    @property
    def last(self) -> HTTPExchange | None:
        """The call's last response other than a ``POST /token`` (None when it sent nothing)."""
        for exchange in reversed(self.exchanges):
            if exchange.path != "/token":
                return exchange
        return None

    @property
    def status(self) -> int | None:
        """HTTP status of `last`."""
        last = self.last
        return None if last is None else last.status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers of `last` (empty when none)."""
        last = self.last
        return {} if last is None else last.headers

    @property
    def request_id(self) -> str | None:
        """``X-Request-Id`` of `last`: quote it to support."""
        last = self.last
        return None if last is None else last.request_id


#: The list the transport appends responses to, inside `Client.raw`.
recording: ContextVar[list[HTTPExchange] | None] = ContextVar(
    "vzaps_async_raw_recording", default=None
)
