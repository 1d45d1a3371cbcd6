"""Models of WhatsApp user lookups."""

from __future__ import annotations

import base64
import binascii

import attrs

__all__ = ["Avatar", "UserCheck"]


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
