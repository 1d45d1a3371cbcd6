"""Chatwoot integration models."""

from __future__ import annotations

import enum

import attrs

from vzaps_async._secret import Secret, as_secret

__all__ = ["ChatwootConfig", "ChatwootImportScope", "ChatwootSettings"]


class ChatwootImportScope(enum.StrEnum):
    """What `ChatwootAPI.import_` copies into Chatwoot."""

    CONTACTS = "contacts"
    MESSAGES = "messages"
    ALL = "all"


def _optional_secret(value: str | Secret | None) -> Secret | None:
    # A plain string is wrapped at once, so the token never shows in a repr or a log line.
    return None if value is None else as_secret(value, field="token")


@attrs.frozen(kw_only=True)
class _ChatwootFields:
    """The fields a Chatwoot configuration is saved with and read back with (all optional).

    Args:
        enabled: Whether the integration is active.
        url: Chatwoot base URL.
        account_id: Chatwoot account id (digits).
        name_inbox: Name of the inbox.
        sign_msg: Sign agent messages with the agent name.
        sign_delimiter: Delimiter between signature and text.
        number: The WhatsApp number of the inbox.
        reopen_conversation: Reopen resolved conversations on new messages.
        conversation_pending: Open new conversations as pending.
        import_contacts: Import contacts on setup.
        import_messages: Import messages on setup.
        days_limit_import_messages: Days of history to import (at least 1).
        auto_create: Create the inbox (and its webhook) automatically.
        organization: Organization name for the bot contact.
        logo: Logo URL for the bot contact.
        ignore_jids: JIDs never forwarded to Chatwoot.
        ignore_groups: Do not forward group chats.
    """

    enabled: bool | None = None
    url: str | None = None
    account_id: str | None = None
    name_inbox: str | None = None
    sign_msg: bool | None = None
    sign_delimiter: str | None = None
    number: str | None = None
    reopen_conversation: bool | None = None
    conversation_pending: bool | None = None
    import_contacts: bool | None = None
    import_messages: bool | None = None
    days_limit_import_messages: int | None = None
    auto_create: bool | None = None
    organization: str | None = None
    logo: str | None = None
    ignore_jids: tuple[str, ...] | None = None
    ignore_groups: bool | None = None


@attrs.frozen(kw_only=True)
class ChatwootSettings(_ChatwootFields):
    """The Chatwoot configuration to save (`POST /instances/{id}/chatwoot`): the shared fields
    and the token.

    ``enabled``, ``url``, ``account_id`` and ``token`` are required. Fields left None are not sent.

    Args:
        token: The Chatwoot ``api_access_token`` (a plain string is wrapped in a `Secret`).
    """

    token: Secret | None = attrs.field(default=None, converter=_optional_secret)


@attrs.frozen(kw_only=True)
class ChatwootConfig(_ChatwootFields):
    """The saved Chatwoot configuration: the shared fields as the server sends them; the token is
    only shown masked.

    Args:
        webhook_url: The URL to paste into the Chatwoot API inbox.
        token_masked: The Chatwoot token, masked.
    """

    webhook_url: str | None = None
    token_masked: str | None = None
