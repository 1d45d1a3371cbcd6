"""Users and contacts API on the wire."""

from __future__ import annotations

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.errors import InputError
from vzaps_async.models import Contact, UserInfo

ROOT = f"/instances/{IID}"


async def test_check_sends_phone_array(wire: Wire, client: Client) -> None:
    """check posts 'phone' as an array (even for one number) and returns typed results."""
    wire.reply(
        "POST",
        f"{ROOT}/user/check",
        envelope(
            {
                "users": [
                    {
                        "phone": "5511999999999",
                        "exists": True,
                        "jid": "5511999999999@s.whatsapp.net",
                    },
                    {"phone": "5511000000000", "exists": False, "jid": None},
                ]
            }
        ),
    )
    users = await client.instance(IID, INSTANCE_TOKEN).users.check(
        ["+5511999999999", "5511000000000"]
    )
    call = wire.last
    assert (call.method, call.auth) == ("POST", "instance")
    assert call.json == {"phone": ["5511999999999", "5511000000000"]}
    assert [u.exists for u in users] == [True, False]
    await client.instance(IID, INSTANCE_TOKEN).users.check("5511999999999")
    assert wire.last.json == {"phone": ["5511999999999"]}


async def test_info_avatar_and_contacts(wire: Wire, client: Client) -> None:
    """info, avatar and contacts hit their routes; avatar decodes the raw base64."""
    users = client.instance(IID, INSTANCE_TOKEN).users
    wire.reply("POST", f"{ROOT}/user/info", envelope({"users": {"x": {"status": "hi"}}}))
    # An object keyed by JID (the whatsmeow form) gives one UserInfo per key.
    assert await users.info("5511999999999") == (UserInfo(jid="x", status="hi"),)
    assert wire.last.json == {"phone": ["5511999999999"]}
    wire.reply(
        "POST", f"{ROOT}/user/avatar", envelope({"base64": "aGk=", "mimetype": "image/jpeg"})
    )
    avatar = await users.avatar("5511999999999", preview=True)
    assert wire.last.json == {"phone": "5511999999999", "preview": True}
    assert avatar.content == b"hi"
    wire.reply("GET", f"{ROOT}/user/contacts", envelope([{"jid": "a@s.whatsapp.net"}]))
    assert await users.contacts() == (Contact(jid="a@s.whatsapp.net"),)
    assert (wire.last.method, wire.last.auth) == ("GET", "instance")


async def test_contacts_list_and_add(wire: Wire, client: Client) -> None:
    """contact/list is a GET; contact/add posts the phone and names."""
    contacts = client.instance(IID, INSTANCE_TOKEN).contacts
    wire.reply("GET", f"{ROOT}/contact/list", envelope({"a@s.whatsapp.net": {"full_name": "A"}}))
    assert await contacts.list() == (Contact(jid="a@s.whatsapp.net", full_name="A"),)
    await contacts.add("5511999999999", first_name="Ana", full_name="Ana Lima")
    call = wire.last
    assert (call.method, call.path, call.auth) == ("POST", f"{ROOT}/contact/add", "instance")
    assert call.json == {"phone": "5511999999999", "first_name": "Ana", "full_name": "Ana Lima"}


async def test_check_rejects_an_empty_list(wire: Wire, client: Client) -> None:
    """An empty phone list raises InputError naming 'phone'."""
    with pytest.raises(InputError) as caught:
        await client.instance(IID).users.check([])
    assert caught.value.field == "phone"
    assert wire.calls == []
