"""`WireForms`: each disputed wire form can be switched to the official SDKs' spelling."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from _wire import BASE, CLIENT_TOKEN, IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async import Client, ClientConfig, InputError, RetryPolicy, WireForms


def _client(**forms: object) -> Client:
    config = ClientConfig(
        base_url=BASE, retry=RetryPolicy(sleep=False, max_attempts=1), wire=WireForms(**forms)
    )
    return Client(CLIENT_TOKEN, "client-secret-value", config=config)


@pytest.fixture
async def sdk_forms() -> AsyncIterator[Client]:
    """A client sending every disputed form the way the official SDKs do."""
    async with _client(
        webhook_set="webhook_url",
        list_sort_desc="sort_desc",
        user_info_phone="string",
        poll_vote="vote",
        instance_get="GET",
    ) as client:
        yield client


async def test_defaults_are_the_documented_forms(wire: Wire) -> None:
    """Without WireForms the client sends sortDesc, a phone array, selected_options, POST get."""
    wire.reply("POST", "/instances/list", {"content": []})
    async with _client() as client:
        await client.instances.list(sort_desc=True)
        assert wire.last.json is not None
        assert wire.last.json["sortDesc"] is True
        handle = client.instance(IID, INSTANCE_TOKEN)
        await handle.users.info("5511999999999")
        assert wire.last.json == {"phone": ["5511999999999"]}
        await handle.messages.vote_poll("5511999999999", "M1", ["yes"])
        assert wire.last.json is not None
        assert wire.last.json["selected_options"] == ["yes"]
        wire.reply("POST", "/instances/get", {"id": IID})
        await client.instances.get(IID)
        assert (wire.last.method, wire.last.path) == ("POST", "/instances/get")


async def test_each_form_can_be_switched(wire: Wire, sdk_forms: Client) -> None:
    """Each WireForms option changes exactly its field or route."""
    wire.reply("POST", "/instances/list", {"content": []})
    await sdk_forms.instances.list(sort_desc=True)
    assert wire.last.json is not None
    assert wire.last.json["sort_desc"] is True
    assert "sortDesc" not in wire.last.json
    handle = sdk_forms.instance(IID, INSTANCE_TOKEN)
    await handle.users.info("5511999999999")
    assert wire.last.json == {"phone": "5511999999999"}
    await handle.messages.vote_poll("5511999999999", "M1", ["yes"])
    assert wire.last.json is not None
    assert (wire.last.json["vote"], "selected_options" in wire.last.json) == (["yes"], False)
    wire.reply("GET", f"/instances/{IID}", {"id": IID})
    assert (await sdk_forms.instances.get(IID)).id == IID
    assert (wire.last.method, wire.last.path) == ("GET", f"/instances/{IID}")
    wire.reply(
        "GET",
        f"/instances/{IID}/webhook",
        envelope({"webhook": "http://h.example/x", "subscribe": ["Message"]}),
    )
    await handle.webhook.set("http://h.example/x", ["Message"])
    assert wire.calls[-2].json == {"webhook_url": "http://h.example/x", "events": ["Message"]}


async def test_user_info_as_a_string_takes_one_number(wire: Wire, sdk_forms: Client) -> None:
    """With user_info_phone='string', several numbers are refused before anything is sent."""
    with pytest.raises(InputError) as caught:
        await sdk_forms.instance(IID).users.info(["5511999999999", "5511888888888"])
    assert caught.value.field == "phones"
    assert wire.calls == []


def test_an_unknown_form_is_refused() -> None:
    """A value WireForms does not know raises at once, naming the option."""
    with pytest.raises(ValueError, match="webhook_set"):
        WireForms(webhook_set="webhookUrl")  # type: ignore[arg-type]
