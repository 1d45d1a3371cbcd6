"""The instance's contact book (`/instances/{id}/contact/...`)."""

from __future__ import annotations

import attrs

from vzaps_async import _validate as validate
from vzaps_async.models.users import Contact

from ._base import InstanceRoute, drop_none, keyed_items, parse

__all__ = ["ContactsAPI"]


@attrs.define
class ContactsAPI(InstanceRoute):
    """Contacts of one instance, read into `Contact` models."""

    async def list(self) -> tuple[Contact, ...]:
        """All contacts (`GET …/contact/list`).

        Read from a JSON array, ``{"contacts": [...]}`` or an object keyed by JID.
        """
        path = self._path("contact", "list")
        items = keyed_items(await self._call("GET", path), "jid", item_keys=("contacts",))
        return parse(items, tuple[Contact, ...], method="GET", path=path)

    async def add(
        self, phone: str, *, first_name: str | None = None, full_name: str | None = None
    ) -> Contact:
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
        return await self._parsed(
            Contact, "POST", self._path("contact", "add"), json=body, idempotent=True
        )
