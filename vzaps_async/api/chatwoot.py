"""Chatwoot integration of an instance (one configuration per instance)."""

from __future__ import annotations

import attrs

from vzaps_async import _validate as validate
from vzaps_async._convert import unstructure
from vzaps_async.errors import InputError
from vzaps_async.models.chatwoot import ChatwootConfig, ChatwootImportScope, ChatwootSettings
from vzaps_async.models.common import StatusResult

from ._base import InstanceRoute

__all__ = ["ChatwootAPI"]

_REQUIRED = ("enabled", "url", "account_id", "token")


@attrs.define
class ChatwootAPI(InstanceRoute):
    """The Chatwoot inbox connected to one instance."""

    async def get(self) -> ChatwootConfig:
        """The saved configuration (`GET …/chatwoot`); the token only appears masked."""
        return await self._parsed(ChatwootConfig, "GET", self._path("chatwoot"))

    async def set(self, settings: ChatwootSettings) -> ChatwootConfig:
        """Save the configuration (`POST …/chatwoot`); returns it with ``webhook_url``.

        Args:
            settings: The configuration; ``enabled``, ``url``, ``account_id`` and ``token`` are
                required.
        """
        if not isinstance(settings, ChatwootSettings):
            raise InputError(
                "settings", f"must be a ChatwootSettings, not {type(settings).__name__}"
            )
        for field in _REQUIRED:
            if getattr(settings, field) is None:
                raise InputError(field, "is required to configure Chatwoot")
        validate.web_url(settings.url, "url")
        account_id = validate.non_empty(settings.account_id, "account_id").strip()
        if not account_id.isdigit():
            raise InputError("account_id", f"{account_id!r} is not a numeric Chatwoot account id")
        if settings.days_limit_import_messages is not None:
            validate.integer(
                settings.days_limit_import_messages, "days_limit_import_messages", minimum=1
            )
        body = unstructure(settings)
        # Saving the same configuration twice gives the same state.
        return await self._parsed(
            ChatwootConfig, "POST", self._path("chatwoot"), json=body, idempotent=True
        )

    async def delete(self) -> StatusResult:
        """Remove the configuration (`DELETE …/chatwoot`)."""
        return await self._status("DELETE", self._path("chatwoot"))

    async def import_(self, what: ChatwootImportScope | str) -> StatusResult:
        """Start an asynchronous import into Chatwoot (`POST …/chatwoot/import/{what}`).

        Args:
            what: ``contacts``, ``messages`` or ``all``.
        """
        scope = validate.choice(what, "what", ChatwootImportScope).value
        return await self._status("POST", self._path("chatwoot", "import", scope))
