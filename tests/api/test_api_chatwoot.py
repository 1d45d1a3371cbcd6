"""Chatwoot API on the wire."""

from __future__ import annotations

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async import Secret
from vzaps_async._client import Client
from vzaps_async.errors import InputError
from vzaps_async.models import ChatwootImportScope, ChatwootSettings

ROOT = f"/instances/{IID}/chatwoot"
CHATWOOT_TOKEN = "chatwoot-api-access-token"


async def test_set_get_delete_import(wire: Wire, client: Client) -> None:
    """set reveals the Chatwoot token only on the wire; get/delete/import hit their routes."""
    chatwoot = client.instance(IID, INSTANCE_TOKEN).chatwoot
    settings = ChatwootSettings(
        enabled=True,
        url="https://chat.example",
        account_id="7",
        token=Secret(CHATWOOT_TOKEN),
        ignore_jids=("a@s.whatsapp.net",),
    )
    assert CHATWOOT_TOKEN not in repr(settings)
    wire.reply(
        "POST",
        ROOT,
        envelope({"enabled": True, "account_id": 7, "webhook_url": "https://api.vzaps.com/cw/x"}),
    )
    saved = await chatwoot.set(settings)
    assert (wire.last.method, wire.last.auth) == ("POST", "instance")
    assert wire.last.json == {
        "enabled": True,
        "url": "https://chat.example",
        "account_id": "7",
        "token": CHATWOOT_TOKEN,
        "ignore_jids": ["a@s.whatsapp.net"],
    }
    assert saved.account_id == "7"
    assert saved.webhook_url == "https://api.vzaps.com/cw/x"
    wire.reply("GET", ROOT, envelope({"enabled": True, "token_masked": "chat…"}))
    assert (await chatwoot.get()).token_masked == "chat…"
    await chatwoot.import_(ChatwootImportScope.MESSAGES)
    assert (wire.last.method, wire.last.path) == ("POST", f"{ROOT}/import/messages")
    await chatwoot.delete()
    assert (wire.last.method, wire.last.path) == ("DELETE", ROOT)


async def test_set_and_import_validate_input(wire: Wire, client: Client) -> None:
    """Missing required settings and unknown import scopes raise InputError naming the field."""
    chatwoot = client.instance(IID).chatwoot
    with pytest.raises(InputError) as caught:
        await chatwoot.set(ChatwootSettings(enabled=True, url="https://c.example", account_id="1"))
    assert caught.value.field == "token"
    with pytest.raises(InputError) as caught:
        await chatwoot.import_("everything")
    assert caught.value.field == "what"
    assert wire.calls == []


def test_plain_string_token_is_wrapped_and_never_shown() -> None:
    """A Chatwoot token passed as a plain string becomes a Secret: absent from repr and str."""
    settings = ChatwootSettings(
        enabled=True, url="https://c.example", account_id="1", token=CHATWOOT_TOKEN
    )
    assert isinstance(settings.token, Secret)
    assert settings.token.reveal() == CHATWOOT_TOKEN
    assert CHATWOOT_TOKEN not in repr(settings)
    assert CHATWOOT_TOKEN not in f"{settings}"
