"""WhatsApp network lookups: is a number on WhatsApp, user info, avatars, the account's contacts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async.errors import InputError
from vzaps_async.models.users import Avatar, Contact, UserCheck, UserCheckResult, UserInfo

from ._base import InstanceRoute, keyed_items, parse

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

    async def info(self, phones: str | Iterable[str]) -> tuple[UserInfo, ...]:
        """Profile information of WhatsApp users (`POST …/user/info`).

        ``phone`` is sent as an array (like ``user/check``); with
        ``ClientConfig(wire=WireForms(user_info_phone="string"))`` as one string (the official
        SDKs' types), which allows one number per call. The answer is read as ``{"users": [...]}``,
        a bare array, or an object keyed by JID.

        Args:
            phones: One number or several.
        """
        numbers = validate.phones(phones)
        phone: Any = numbers
        if self._transport.config.wire.user_info_phone == "string":
            if len(numbers) != 1:
                raise InputError(
                    "phones",
                    f"got {len(numbers)} numbers; WireForms(user_info_phone='string') sends one "
                    "per call: call info() once per number",
                )
            phone = numbers[0]
        path = self._path("user", "info")
        payload = await self._call("POST", path, json={"phone": phone}, idempotent=True)
        items = keyed_items(payload, "jid", item_keys=("users", "Users"))
        return parse(items, tuple[UserInfo, ...], method="POST", path=path)

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

    async def contacts(self) -> tuple[Contact, ...]:
        """The WhatsApp account's contacts (`GET …/user/contacts`).

        Read from a JSON array, ``{"contacts": [...]}`` or an object keyed by JID.
        """
        path = self._path("user", "contacts")
        items = keyed_items(await self._call("GET", path), "jid", item_keys=("contacts",))
        return parse(items, tuple[Contact, ...], method="GET", path=path)
