"""The instance's outgoing queues: pending messages and pending operations.

The responses are undocumented: items are `QueuedItem`s that keep the fields they do not name in
``extra``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs

from vzaps_async import _validate as validate
from vzaps_async.models.queues import QueuedItem, QueuePage, QueueRemoval

from ._base import InstanceRoute
from ._paging import walk

__all__ = ["QueuesAPI"]


@attrs.define
class QueuesAPI(InstanceRoute):
    """Inspect and purge what one instance still has to send or do."""

    async def _list(self, kind: str, page: int | None, page_size: int | None) -> QueuePage:
        return await self._get_page(QueuePage, self._path("queue", kind), kind, page, page_size)

    async def _iter(self, kind: str, page_size: int) -> AsyncIterator[QueuedItem]:
        size = validate.integer(page_size, "page_size", minimum=1)

        async for item in walk(lambda page: self._list(kind, page, size), size=size):
            yield item

    async def messages(self, *, page: int | None = None, page_size: int | None = None) -> QueuePage:
        """Pending outgoing messages (`GET …/queue/messages`).

        Args:
            page: Page number, 1-based (server default when None).
            page_size: Items per page (server default when None).
        """
        return await self._list("messages", page, page_size)

    def iter_messages(self, *, page_size: int = 100) -> AsyncIterator[QueuedItem]:
        """Iterate over all pending outgoing messages, loading pages as needed.

        Args:
            page_size: Items per request.
        """
        return self._iter("messages", page_size)

    async def purge_messages(self) -> QueueRemoval:
        """Drop every pending outgoing message (`DELETE …/queue/messages`)."""
        return await self._parsed(QueueRemoval, "DELETE", self._path("queue", "messages"))

    async def remove_message(self, message_id: str) -> QueueRemoval:
        """Drop one pending outgoing message (`DELETE …/queue/messages/{message_id}`).

        Args:
            message_id: The queued message.
        """
        message_id = validate.non_empty(message_id, "message_id")
        return await self._parsed(
            QueueRemoval, "DELETE", self._path("queue", "messages", message_id)
        )

    async def operations(
        self, *, page: int | None = None, page_size: int | None = None
    ) -> QueuePage:
        """Pending operations other than messages (`GET …/queue/operations`).

        Args:
            page: Page number, 1-based (server default when None).
            page_size: Items per page (server default when None).
        """
        return await self._list("operations", page, page_size)

    def iter_operations(self, *, page_size: int = 100) -> AsyncIterator[QueuedItem]:
        """Iterate over all pending operations, loading pages as needed.

        Args:
            page_size: Items per request.
        """
        return self._iter("operations", page_size)

    async def purge_operations(self) -> QueueRemoval:
        """Drop every pending operation (`DELETE …/queue/operations`)."""
        return await self._parsed(QueueRemoval, "DELETE", self._path("queue", "operations"))

    async def remove_operation(self, operation_id: str) -> QueueRemoval:
        """Drop one pending operation (`DELETE …/queue/operations/{operation_id}`).

        Args:
            operation_id: The queued operation.
        """
        operation_id = validate.non_empty(operation_id, "operation_id")
        return await self._parsed(
            QueueRemoval, "DELETE", self._path("queue", "operations", operation_id)
        )
