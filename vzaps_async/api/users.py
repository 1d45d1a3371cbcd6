"""WhatsApp network lookups: is a number on WhatsApp, user info, avatars, the account's contacts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async.errors import ResponseError
from vzaps_async.models.common import RawJSON
from vzaps_async.models.users import Avatar, UserCheck, UserCheckResult

from ._base import InstanceRoute

__all__ = ["UsersAPI"]


@attrs.define
class UsersAPI(InstanceRoute):
    """Lookups on the WhatsApp network through one instance."""

    async def check(self, phones: str | Iterable[str]) -> tuple[UserCheck, ...]:
        """Which numbers have a WhatsApp account (`POST …/user/check`).

        Args:
            phones: One number or several (country code + digits); sent as an array.
        """
        body = {"phone": validate.phones(phones)}
        result = await self._parsed(
            UserCheckResult, "POST", self._path("user", "check"), json=body, idempotent=True
        )
        return result.users

    async def info(self, phones: str | Iterable[str]) -> dict[str, Any]:
        """Profile information of WhatsApp users (`POST …/user/info`).

        The response shape is undocumented and returned as a dict.

        Args:
            phones: One number or several; sent as an array.
        """
        body = {"phone": validate.phones(phones)}
        return await self._object("POST", self._path("user", "info"), json=body, idempotent=True)

    async def avatar(self, phone: str, *, preview: bool = False) -> Avatar:
        """A user's profile picture (`POST …/user/avatar`).

        Args:
            phone: The user's number or JID.
            preview: True for the small preview image.
        """
        body = {
            "phone": validate.chat_target(phone),
            "preview": validate.boolean(preview, "preview"),
        }
        return await self._parsed(
            Avatar, "POST", self._path("user", "avatar"), json=body, idempotent=True
        )

    async def contacts(self) -> RawJSON:
        """The WhatsApp account's contacts (`GET …/user/contacts`), as the decoded JSON.

        The response shape is undocumented: a list of contacts or an object keyed by JID.
        """
        path = self._path("user", "contacts")
        payload = await self._call("GET", path)
        if payload is None:
            return []
        if isinstance(payload, dict | list):
            return payload
        raise ResponseError(
            f"expected a JSON object or array, got {type(payload).__name__}",
            status=200,
            method="GET",
            path=path,
        )
