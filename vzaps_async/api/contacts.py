"""The instance's contact book (`/instances/{id}/contact/...`)."""

from __future__ import annotations

from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async.errors import ResponseError
from vzaps_async.models.common import RawJSON

from ._base import InstanceRoute, drop_none

__all__ = ["ContactsAPI"]


@attrs.define
class ContactsAPI(InstanceRoute):
    """Contacts of one instance; the response shapes are undocumented and returned as JSON."""

    async def list(self) -> RawJSON:
        """All contacts (`GET …/contact/list`), as the decoded JSON (list or object)."""
        path = self._path("contact", "list")
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

    async def add(
        self, phone: str, *, first_name: str | None = None, full_name: str | None = None
    ) -> dict[str, Any]:
        """Add a contact (`POST …/contact/add`).

        Args:
            phone: The contact's number (country code + digits).
            first_name: First name.
            full_name: Full name.
        """
        body = {
            "phone": validate.phone(phone),
            **drop_none(
                first_name=None
                if first_name is None
                else validate.non_empty(first_name, "first_name"),
                full_name=None if full_name is None else validate.non_empty(full_name, "full_name"),
            ),
        }
        # Adding the same contact twice leaves one contact.
        return await self._object("POST", self._path("contact", "add"), json=body, idempotent=True)
