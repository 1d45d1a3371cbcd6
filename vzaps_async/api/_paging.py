"""Walking paginated list endpoints, and reading pages whose shape is not documented."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from vzaps_async.errors import ResponseError

__all__ = ["normalize_page", "walk"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Page(Protocol[T_co]):
    """One page of a list endpoint, as the page models (`ChatPage`, `InstancePage`, ...) are."""

    @property
    def content(self) -> Sequence[T_co]:
        """The items on the page."""
        ...

    @property
    def total_pages(self) -> int | None:
        """The page count, when the server reports it."""
        ...


#: Keys under which list endpoints without a documented shape may put their items.
_ITEM_KEYS = ("content", "items", "data", "results", "list")
_COUNT_KEYS = {"page": ("page",), "size": ("size", "page_size"), "total": ("total",)}


def normalize_page(
    payload: Any, *, item_keys: Sequence[str] = (), method: str, path: str
) -> dict[str, Any]:
    """Turn a list payload into ``{"content": [...], "page": ..., ...}``.

    A bare JSON array is a single page of items; an object carries its items under ``content`` or
    one of ``item_keys`` (checked first) or a few common names.

    Args:
        payload: The decoded payload.
        item_keys: Endpoint-specific keys that may hold the items (e.g. ``"chats"``).
        method: HTTP method, for the error.
        path: Request path, for the error.
    """
    if payload is None:
        return {"content": []}
    if isinstance(payload, list):
        return {"content": payload}
    if isinstance(payload, Mapping):
        for key in (*item_keys, *_ITEM_KEYS):
            items = payload.get(key)
            if isinstance(items, list):
                page: dict[str, Any] = {"content": items}
                for name, keys in _COUNT_KEYS.items():
                    page[name] = next(
                        (payload[k] for k in keys if isinstance(payload.get(k), int)), None
                    )
                total_pages = payload.get("total_pages", payload.get("totalPages"))
                page["total_pages"] = total_pages if isinstance(total_pages, int) else None
                return page
    raise ResponseError(
        f"expected a list of items, got {type(payload).__name__}"
        + (f" with keys {sorted(payload)[:10]}" if isinstance(payload, Mapping) else ""),
        status=200,
        method=method,
        path=path,
    )


async def walk(
    fetch: Callable[[int], Awaitable[Page[T]]],
    *,
    size: int,
    first: int = 1,
) -> AsyncIterator[T]:
    """Yield the items of every page, from page ``first`` on.

    ``fetch(page)`` loads one page (its items and, when the server reports it, the page count).
    Walking stops at the last reported page; without a count, at an empty or short page (or a
    page identical to the one before, which means the server ignores paging).

    Args:
        fetch: Loads one page.
        size: The page size asked for.
        first: The first page number (1-based).
    """
    page = first
    previous: Sequence[T] | None = None
    while True:
        result = await fetch(page)
        items, total_pages = result.content, result.total_pages
        if not items or (previous is not None and list(items) == list(previous)):
            return
        for item in items:
            yield item
        if total_pages is not None:
            if page >= total_pages:
                return
        elif len(items) < size:
            return
        previous = items
        page += 1
