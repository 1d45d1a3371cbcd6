"""Session (pairing) models: QR code, pair code and session status."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import attrs

__all__ = ["BusinessCategory", "BusinessProfile", "PairCode", "QRCode", "SessionStatus"]


@attrs.frozen
class QRCode:
    """The response of `GET /instances/{id}/session/qr`.

    While the instance is not paired it carries a PNG QR code as a data URL; once paired it carries
    ``status="connected"`` and the phone instead. Each call may return a new code: QR codes rotate.

    Args:
        qr_code: The QR code as a ``data:image/png;base64,…`` URL (wire ``qr_code`` or ``QRCode``).
        status: Pairing status, e.g. ``"connected"`` or ``"starting"`` (wire ``status`` or
            ``pairing_status``).
        phone: The paired phone number, once connected.
        expires_in: Seconds the code stays valid, when the server says.
        expires_at: When the code expires, when the server says.
    """

    qr_code: str | None = None
    status: str | None = None
    phone: str | None = None
    expires_in: float | None = None
    expires_at: datetime | None = None

    @property
    def connected(self) -> bool:
        """True when the instance is already paired (no QR code to show)."""
        return self.status == "connected"

    @property
    def png(self) -> bytes | None:
        """The QR code image as PNG bytes, or None when there is no (decodable) code."""
        if not self.qr_code:
            return None
        _, comma, encoded = self.qr_code.partition(",")
        text = encoded if comma and self.qr_code.startswith("data:") else self.qr_code
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return None


@attrs.frozen
class PairCode:
    """The response of `GET /instances/{id}/session/paircode/{phone}`.

    Args:
        code: The code to type in WhatsApp (``XXXX-XXXX``); wire ``LinkingCode`` or
            ``linking_code``.
    """

    code: str


@attrs.frozen
class BusinessCategory:
    """A WhatsApp Business category.

    Args:
        id: Category id.
        name: Category name.
    """

    id: str | None = None
    name: str | None = None


@attrs.frozen
class BusinessProfile:
    """The WhatsApp Business profile of the paired account.

    Args:
        business_hours_timezone: IANA time zone of the business hours.
        categories: Business categories.
        profile_options: Profile switches as strings (e.g. ``{"cart_enabled": "true"}``).
        address: Business address.
        email: Business e-mail.
    """

    business_hours_timezone: str | None = None
    categories: tuple[BusinessCategory, ...] = ()
    profile_options: dict[str, str] | None = None
    address: str | None = None
    email: str | None = None


@attrs.frozen
class SessionStatus:
    """The response of `GET /instances/{id}/session/status`.

    A disconnected session is exactly ``{"connected": false}``; the profile fields appear once
    connected.

    Args:
        connected: Whether the WhatsApp session is authenticated.
        phone: The paired phone number.
        whatsapp_jid: The paired account's JID.
        push_name: The WhatsApp display name.
        business_name: The business name (business accounts).
        business_profile: The business profile (business accounts).
        profile_picture_id: Id of the profile picture.
        profile_picture_url: URL of the profile picture.
        profile_url: ``https://wa.me/<phone>``.
        verified_name: The verified business name.
        about: The "about" text.
        website: The business website.
    """

    connected: bool
    phone: str | None = None
    whatsapp_jid: str | None = None
    push_name: str | None = None
    business_name: str | None = None
    business_profile: BusinessProfile | None = None
    profile_picture_id: str | None = None
    profile_picture_url: str | None = None
    profile_url: str | None = None
    verified_name: str | None = None
    about: str | None = None
    website: str | None = None
