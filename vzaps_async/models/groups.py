"""Group models. The contract documents no group response, so every model keeps the fields it
does not name in ``extra``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from vzaps_async._convert import EXTRA

__all__ = ["Group", "GroupInviteLink", "GroupPage", "GroupParticipant", "GroupPhoto"]


@attrs.frozen
class GroupParticipant:
    """One member of a group.

    Args:
        jid: The member's JID.
        phone: The member's number.
        is_admin: Whether the member is an admin.
        is_super_admin: Whether the member is the group's owner.
        extra: Fields this model does not name.
    """

    jid: str | None = None
    phone: str | None = None
    is_admin: bool | None = None
    is_super_admin: bool | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class Group:
    """A group's metadata (``group/info``, ``group/create`` and the group changes).

    Args:
        jid: The group id (``…@g.us``).
        name: The group's name.
        topic: Its description.
        owner_jid: Who owns it.
        created_at: When it was created.
        picture_id: Id of its picture.
        admin_only_message: Only admins may send.
        admin_only_settings: Only admins may change settings.
        delay_message: Slow-mode delay, in seconds.
        participants: Its members.
        extra: Fields this model does not name.
    """

    jid: str | None = None
    name: str | None = None
    topic: str | None = None
    owner_jid: str | None = None
    created_at: datetime | None = None
    picture_id: str | None = None
    admin_only_message: bool | None = None
    admin_only_settings: bool | None = None
    delay_message: int | None = None
    participants: tuple[GroupParticipant, ...] = ()
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class GroupPage:
    """One page of ``group/list``.

    Args:
        content: The groups on this page.
        page: Page number, 1-based, when reported.
        size: Page size, when reported.
        total: Number of groups over all pages, when reported.
        total_pages: Number of pages, when reported.
    """

    content: tuple[Group, ...] = ()
    page: int | None = None
    size: int | None = None
    total: int | None = None
    total_pages: int | None = None


@attrs.frozen
class GroupInviteLink:
    """A group's invite link (``group/invitelink``).

    Args:
        invite_link: The ``https://chat.whatsapp.com/…`` link (wire ``invite_link`` or
            ``InviteLink``).
        group_id: The group.
        extra: Fields this model does not name.
    """

    invite_link: str | None = None
    group_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class GroupPhoto:
    """The answer of ``group/photo``.

    Args:
        picture_id: Id of the new picture (wire ``picture_id`` or ``PictureID``).
        group_id: The group.
        extra: Fields this model does not name.
    """

    picture_id: str | None = None
    group_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)
