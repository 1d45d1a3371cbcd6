"""Walking paged list endpoints: every item once, and a stop for servers that ignore paging."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from vzaps_async.api._paging import walk


@attrs.frozen
class _Page:
    content: Sequence[int]
    total_pages: int | None


async def test_a_server_that_ignores_the_page_number_is_walked_once() -> None:
    """Full pages that repeat the previous one end the walk instead of looping forever."""
    asked: list[int] = []

    async def same_page(page: int) -> _Page:
        asked.append(page)
        # A bound on the repeats keeps a broken walk from looping forever in this test.
        return _Page([1, 2, 3] if page <= 5 else [], None)

    assert [item async for item in walk(same_page, size=3)] == [1, 2, 3]
    assert asked == [1, 2]


async def test_pages_are_walked_to_the_reported_count_or_a_short_page() -> None:
    """With a page count the walk stops at the last page; without one, at a short page."""
    pages = {1: [1, 2], 2: [3, 4], 3: [5]}

    async def counted(page: int) -> _Page:
        return _Page(pages.get(page, []), 2)

    async def uncounted(page: int) -> _Page:
        return _Page(pages.get(page, []), None)

    assert [item async for item in walk(counted, size=2)] == [1, 2, 3, 4]
    assert [item async for item in walk(uncounted, size=2)] == [1, 2, 3, 4, 5]
