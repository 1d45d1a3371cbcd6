"""Models of WhatsApp user lookups."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import attrs

from vzaps_async._convert import EXTRA

__all__ = ["Avatar", "Contact", "UserCheck", "UserInfo"]


@attrs.frozen
class UserCheck:
    """Whether one phone number has a WhatsApp account (`POST /instances/{id}/user/check`).

    Args:
        exists: True when the number is on WhatsApp.
        phone: The number as checked.
        jid: The account's JID, when it exists.
        verified_name: The verified business name, when there is one.
    """

    exists: bool
    phone: str | None = None
    jid: str | None = None
    verified_name: str | None = None


@attrs.frozen
class UserCheckResult:
    """The wire shape of a user check: ``{"users": [...]}``.

    Args:
        users: One entry per phone number checked.
    """

    users: tuple[UserCheck, ...]


@attrs.frozen
class Avatar:
    """A user's profile picture (`POST /instances/{id}/user/avatar`).

    Args:
        base64: The image as raw base64 (no data-URL prefix).
        mimetype: Its MIME type, e.g. ``image/jpeg``.
        url: A URL of the picture, when the server sends one.
        id: The picture id, when the server sends one.
    """

    base64: str | None = None
    mimetype: str | None = None
    url: str | None = None
    id: str | None = None

    @property
    def content(self) -> bytes | None:
        """The decoded image, or None when there is no (decodable) picture."""
        if not self.base64:
            return None
        try:
            return base64.b64decode(self.base64)
        except (binascii.Error, ValueError):
            return None


@attrs.frozen
class UserInfo:
    """Profile details of one WhatsApp user (`POST /instances/{id}/user/info`, undocumented:
    fields it does not name are kept in ``extra``).

    Args:
        phone: The number looked up.
        jid: The account's JID.
        exists: Whether the number is on WhatsApp, when the server says.
        verified_name: The verified business name, when there is one.
        status: The profile's status text ("about").
        picture_id: Id of the profile picture.
        devices: The account's device JIDs.
        extra: Fields this model does not name.
    """

    phone: str | None = None
    jid: str | None = None
    exists: bool | None = None
    verified_name: str | None = None
    status: str | None = None
    picture_id: str | None = None
    devices: tuple[str, ...] = ()
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)


@attrs.frozen
class Contact:
    """One saved contact of the WhatsApp account (``user/contacts``, ``contact/list``,
    ``contact/add``; undocumented: fields it does not name are kept in ``extra``).

    Args:
        jid: The contact's JID.
        phone: The contact's number.
        first_name: First name as saved.
        full_name: Full name as saved.
        push_name: The name the contact set on WhatsApp.
        business_name: The business name, for a business account.
        found: Whether the contact is on WhatsApp, when the server says.
        extra: Fields this model does not name.
    """

    jid: str | None = None
    phone: str | None = None
    first_name: str | None = None
    full_name: str | None = None
    push_name: str | None = None
    business_name: str | None = None
    found: bool | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)
