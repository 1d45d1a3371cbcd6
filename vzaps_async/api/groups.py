"""WhatsApp groups of an instance (`/instances/{id}/group/...`).

Group responses are undocumented: the models keep the fields they do not name in ``extra``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import attrs

from vzaps_async import _validate as validate
from vzaps_async.models.groups import Group, GroupInviteLink, GroupPage, GroupPhoto

from ._base import InstanceRoute, drop_none
from ._paging import walk

__all__ = ["GroupsAPI"]


def _participants(value: Iterable[str]) -> list[str]:
    names = validate.string_list(value, "participants")
    return [validate.chat_target(p, f"participants[{i}]") for i, p in enumerate(names)]


def _flag(value: bool | None, field: str) -> bool | None:
    return None if value is None else validate.boolean(value, field)


@attrs.define
class GroupsAPI(InstanceRoute):
    """Groups the instance's WhatsApp account is in."""

    async def list(self, *, page: int | None = None, page_size: int | None = None) -> GroupPage:
        """One page of groups (`GET …/group/list`); items are `Group` models.

        Args:
            page: Page number, 1-based (server default when None).
            page_size: Groups per page (server default when None).
        """
        return await self._get_page(
            GroupPage, self._path("group", "list"), "groups", page, page_size
        )

    async def iter(self, *, page_size: int = 100) -> AsyncIterator[Group]:
        """Iterate over all groups, loading pages as needed.

        Args:
            page_size: Groups per request.
        """
        size = validate.integer(page_size, "page_size", minimum=1)

        async for group in walk(lambda page: self.list(page=page, page_size=size), size=size):
            yield group

    async def info(self, group_id: str) -> Group:
        """A group's metadata (`GET …/group/info?group_id=`).

        Args:
            group_id: The group id (``…@g.us``).
        """
        params = {"group_id": validate.group_id(group_id)}
        return await self._parsed(Group, "GET", self._path("group", "info"), params=params)

    async def invite_link(self, group_id: str, *, reset: bool = False) -> GroupInviteLink:
        """The group's invite link (`GET …/group/invitelink`).

        Args:
            group_id: The group id.
            reset: Revoke the current link and issue a new one.
        """
        params: dict[str, str | bool] = {"group_id": validate.group_id(group_id)}
        if validate.boolean(reset, "reset"):
            params["reset"] = True
        # A reset changes state, so only the plain read may be replayed.
        return await self._parsed(
            GroupInviteLink,
            "GET",
            self._path("group", "invitelink"),
            params=params,
            idempotent=not reset,
        )

    async def set_photo(self, group_id: str, image: str) -> GroupPhoto:
        """Set the group photo (`POST …/group/photo`).

        Args:
            group_id: The group id.
            image: A public URL or a data URL.
        """
        body = {
            "group_id": validate.group_id(group_id),
            "image": validate.non_empty(image, "image"),
        }
        return await self._parsed(
            GroupPhoto, "POST", self._path("group", "photo"), json=body, idempotent=True
        )

    async def set_name(self, group_id: str, name: str) -> Group:
        """Rename the group (`POST …/group/name`).

        Args:
            group_id: The group id.
            name: The new name.
        """
        body = {"group_id": validate.group_id(group_id), "name": validate.non_empty(name, "name")}
        return await self._parsed(
            Group, "POST", self._path("group", "name"), json=body, idempotent=True
        )

    async def set_description(self, group_id: str, description: str) -> Group:
        """Set the group description (`POST …/group/description`).

        Args:
            group_id: The group id.
            description: The new description.
        """
        body = {
            "group_id": validate.group_id(group_id),
            "description": validate.non_empty(description, "description"),
        }
        return await self._parsed(
            Group, "POST", self._path("group", "description"), json=body, idempotent=True
        )

    async def settings(
        self,
        group_id: str,
        *,
        admin_only_message: bool | None = None,
        admin_only_settings: bool | None = None,
        delay_message: int | None = None,
    ) -> Group:
        """Change group settings (`POST …/group/settings`).

        Args:
            group_id: The group id.
            admin_only_message: Only admins may send messages.
            admin_only_settings: Only admins may edit the group info.
            delay_message: Slow mode, as the API defines it.
        """
        body = {
            "group_id": validate.group_id(group_id),
            **drop_none(
                admin_only_message=_flag(admin_only_message, "admin_only_message"),
                admin_only_settings=_flag(admin_only_settings, "admin_only_settings"),
                delay_message=None
                if delay_message is None
                else validate.integer(delay_message, "delay_message", minimum=0),
            ),
        }
        return await self._parsed(
            Group, "POST", self._path("group", "settings"), json=body, idempotent=True
        )

    async def create(
        self,
        name: str,
        participants: Iterable[str],
        *,
        description: str | None = None,
        image: str | None = None,
    ) -> Group:
        """Create a group (`POST …/group/create`); not retried after an unknown outcome.

        Args:
            name: The group name.
            participants: Numbers or JIDs of the first members.
            description: The group description.
            image: The group photo (URL or data URL).
        """
        body = {
            "group_name": validate.non_empty(name, "name"),
            "participants": _participants(participants),
            **drop_none(
                group_description=None
                if description is None
                else validate.non_empty(description, "description"),
                group_image=None if image is None else validate.non_empty(image, "image"),
            ),
        }
        return await self._parsed(Group, "POST", self._path("group", "create"), json=body)

    async def add_admins(self, group_id: str, participants: Iterable[str]) -> Group:
        """Promote members to admin (`POST …/group/add-admin`).

        Args:
            group_id: The group id.
            participants: Numbers or JIDs of the members.
        """
        body = {
            "group_id": validate.group_id(group_id),
            "participants": _participants(participants),
        }
        return await self._parsed(
            Group, "POST", self._path("group", "add-admin"), json=body, idempotent=True
        )

    async def remove_admins(self, group_id: str, participants: Iterable[str]) -> Group:
        """Demote admins to members (`POST …/group/remove-admin`).

        Args:
            group_id: The group id.
            participants: Numbers or JIDs of the admins.
        """
        body = {
            "group_id": validate.group_id(group_id),
            "participants": _participants(participants),
        }
        return await self._parsed(
            Group, "POST", self._path("group", "remove-admin"), json=body, idempotent=True
        )
