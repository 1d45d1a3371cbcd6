"""Pairing a WhatsApp account with an instance: QR code, pair code, status, disconnect."""

from __future__ import annotations

import attrs

from vzaps_async import _validate as validate
from vzaps_async.models.common import ActionResult
from vzaps_async.models.session import PairCode, QRCode, SessionStatus

from ._base import InstanceRoute, parse

__all__ = ["SessionAPI"]


@attrs.define
class SessionAPI(InstanceRoute):
    """The WhatsApp session of one instance."""

    async def qr(self) -> QRCode:
        """Get the current QR code (`GET …/session/qr`); the first call starts the worker.

        Call it again until `QRCode.connected`: codes rotate, and a new one replaces the last.
        The code is read from ``qr_code`` or ``QRCode``, or from ``data`` itself when the server
        sends the data URL as a bare string.
        """
        path = self._prefix + "/session/qr"
        payload = await self._call("GET", path)
        if isinstance(payload, str):
            return QRCode(qr_code=payload)
        return parse(payload, QRCode, method="GET", path=path)

    async def pair_code(self, phone: str) -> PairCode:
        """Get a code to link the phone by number instead of QR (`GET …/session/paircode/{phone}`).

        Args:
            phone: The WhatsApp number to link (country code + digits).
        """
        number = validate.phone(phone)
        return await self._parsed(PairCode, "GET", self._path("session", "paircode", number))

    async def status(self) -> SessionStatus:
        """Whether the session is connected, with the account's profile (`GET …/session/status`)."""
        return await self._parsed(SessionStatus, "GET", self._prefix + "/session/status")

    async def disconnect(self) -> ActionResult:
        """Log the WhatsApp session out (`POST …/session/disconnect`); pairing is needed again."""
        # Logging out twice leaves the same state, so a lost answer may be replayed.
        return await self._parsed(
            ActionResult, "POST", self._path("session", "disconnect"), idempotent=True
        )
