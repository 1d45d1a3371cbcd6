"""Chat metadata and chat actions (`/instances/{id}/chats/...`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async.models.chats import Chat, ChatExpiration, ChatPage
from vzaps_async.models.common import StatusResult

from ._base import InstanceRoute
from ._paging import walk

__all__ = ["ChatsAPI"]


@attrs.define
class ChatsAPI(InstanceRoute):
    """The chats of one instance. ``chat`` arguments take a number, a group id or a JID."""

    async def list(self, *, page: int | None = None, page_size: int | None = None) -> ChatPage:
        """One page of chats (`GET …/chats`).

        Args:
            page: Page number, 1-based (server default when None).
            page_size: Chats per page (server default when None).
        """
        return await self._get_page(ChatPage, self._path("chats"), "chats", page, page_size)

    async def iter(self, *, page_size: int = 100) -> AsyncIterator[Chat]:
        """Iterate over all chats, loading pages as needed.

        Args:
            page_size: Chats per request.
        """
        size = validate.integer(page_size, "page_size", minimum=1)

        async for chat in walk(lambda page: self.list(page=page, page_size=size), size=size):
            yield chat

    def _chat_path(self, chat: str, *action: str) -> str:
        return self._path("chats", validate.chat_target(chat, "chat"), *action)

    async def get(self, chat: str) -> Chat:
        """A chat's metadata (`GET …/chats/{chat}`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._parsed(Chat, "GET", self._chat_path(chat))

    async def _action(
        self, chat: str, action: str, body: dict[str, Any] | None = None
    ) -> StatusResult:
        # Every chat action sets a state (archived, pinned, ...): repeating it is harmless.
        return await self._status("POST", self._chat_path(chat, action), json=body, idempotent=True)

    async def archive(self, chat: str) -> StatusResult:
        """Archive the chat (`POST …/chats/{chat}/archive`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "archive")

    async def unarchive(self, chat: str) -> StatusResult:
        """Unarchive the chat (`POST …/chats/{chat}/unarchive`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "unarchive")

    async def mute(self, chat: str, duration_seconds: int | None = None) -> StatusResult:
        """Mute the chat (`POST …/chats/{chat}/mute`).

        Args:
            chat: Number, group id or JID.
            duration_seconds: How long; None mutes until unmuted.
        """
        body = None
        if duration_seconds is not None:
            body = {
                "duration_seconds": validate.integer(
                    duration_seconds, "duration_seconds", minimum=1
                )
            }
        return await self._action(chat, "mute", body)

    async def unmute(self, chat: str) -> StatusResult:
        """Unmute the chat (`POST …/chats/{chat}/unmute`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "unmute")

    async def pin(self, chat: str) -> StatusResult:
        """Pin the chat (`POST …/chats/{chat}/pin`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "pin")

    async def unpin(self, chat: str) -> StatusResult:
        """Unpin the chat (`POST …/chats/{chat}/unpin`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "unpin")

    async def read(self, chat: str) -> StatusResult:
        """Mark the whole chat read (`POST …/chats/{chat}/read`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "read")

    async def unread(self, chat: str) -> StatusResult:
        """Mark the chat unread (`POST …/chats/{chat}/unread`).

        Args:
            chat: Number, group id or JID.
        """
        return await self._action(chat, "unread")

    async def clear(self, chat: str, *, delete_media: bool = False) -> StatusResult:
        """Clear the chat's messages (`POST …/chats/{chat}/clear`).

        Args:
            chat: Number, group id or JID.
            delete_media: Also delete the media files.
        """
        return await self._action(
            chat, "clear", {"delete_media": validate.boolean(delete_media, "delete_media")}
        )

    async def delete(self, chat: str, *, delete_media: bool = False) -> StatusResult:
        """Delete the chat (`DELETE …/chats/{chat}`).

        Args:
            chat: Number, group id or JID.
            delete_media: Also delete the media files.
        """
        body = {"delete_media": validate.boolean(delete_media, "delete_media")}
        return await self._status("DELETE", self._chat_path(chat), json=body)

    async def set_expiration(self, chat: str, expiration: ChatExpiration | str) -> StatusResult:
        """Set disappearing messages (`PUT …/chats/{chat}/expiration`).

        Args:
            chat: Number, group id or JID.
            expiration: ``24_HOURS``, ``7_DAYS``, ``90_DAYS`` or ``OFF``.
        """
        body = {"expiration": validate.choice(expiration, "expiration", ChatExpiration).value}
        return await self._status(
            "PUT", self._chat_path(chat, "expiration"), json=body, idempotent=True
        )
