"""Groups API on the wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.api.groups import GroupsAPI
from vzaps_async.errors import InputError

ROOT = f"/instances/{IID}/group"
GID = "120363025246125888@g.us"
Act = Callable[[GroupsAPI], Awaitable[Any]]

MUTATIONS: list[tuple[str, Act, dict[str, Any]]] = [
    (
        "photo",
        lambda g: g.set_photo(GID, "https://x/p.jpg"),
        {"group_id": GID, "image": "https://x/p.jpg"},
    ),
    ("name", lambda g: g.set_name(GID, "Team"), {"group_id": GID, "name": "Team"}),
    (
        "description",
        lambda g: g.set_description(GID, "About"),
        {"group_id": GID, "description": "About"},
    ),
    (
        "settings",
        lambda g: g.settings(GID, admin_only_message=True, delay_message=0),
        {"group_id": GID, "admin_only_message": True, "delay_message": 0},
    ),
    (
        "create",
        lambda g: g.create("Team", ["5511999999999"], description="d"),
        {"group_name": "Team", "participants": ["5511999999999"], "group_description": "d"},
    ),
    (
        "add-admin",
        lambda g: g.add_admins(GID, ["5511999999999"]),
        {"group_id": GID, "participants": ["5511999999999"]},
    ),
    (
        "remove-admin",
        lambda g: g.remove_admins(GID, ["5511999999999@s.whatsapp.net"]),
        {"group_id": GID, "participants": ["5511999999999@s.whatsapp.net"]},
    ),
]


@pytest.mark.parametrize(("route", "act", "body"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
async def test_group_mutations(
    wire: Wire, client: Client, route: str, act: Act, body: dict[str, Any]
) -> None:
    """Every group mutation POSTs its route with the instance token and its JSON body."""
    wire.reply(
        "POST", f"{ROOT}/{route}", envelope({"jid": GID, "picture_id": "p1", "is_announce": True})
    )
    result = await act(client.instance(IID, INSTANCE_TOKEN).groups)
    call = wire.last
    assert (call.method, call.path, call.auth, call.json) == (
        "POST",
        f"{ROOT}/{route}",
        "instance",
        body,
    )
    if route == "photo":
        assert (result.picture_id, result.extra) == ("p1", {"jid": GID, "is_announce": True})
    else:
        # Fields the model does not name are kept, not dropped.
        assert (result.jid, result.picture_id, result.extra) == (GID, "p1", {"is_announce": True})


async def test_list_iter_info_and_invite_link(wire: Wire, client: Client) -> None:
    """Reads send their query parameters; iteration stops at a short page."""
    groups = client.instance(IID, INSTANCE_TOKEN).groups
    wire.reply("GET", f"{ROOT}/list", envelope({"groups": [{"jid": "1@g.us"}, {"jid": "2@g.us"}]}))
    wire.reply("GET", f"{ROOT}/list", envelope({"groups": [{"jid": "3@g.us"}]}))
    jids = [g.jid async for g in groups.iter(page_size=2)]
    assert jids == ["1@g.us", "2@g.us", "3@g.us"]
    assert [c.query for c in wire.calls] == [
        {"page": "1", "page_size": "2"},
        {"page": "2", "page_size": "2"},
    ]
    wire.reply("GET", f"{ROOT}/info", envelope({"jid": GID, "name": "Team"}))
    assert (await groups.info(GID)).name == "Team"
    assert wire.last.query == {"group_id": GID}
    wire.reply("GET", f"{ROOT}/invitelink", envelope({"InviteLink": "https://chat.whatsapp.com/x"}))
    assert (await groups.invite_link(GID, reset=True)).invite_link == "https://chat.whatsapp.com/x"
    assert (wire.last.method, wire.last.path) == ("GET", f"{ROOT}/invitelink")
    assert wire.last.query == {"group_id": GID, "reset": "true"}


async def test_group_id_is_validated(wire: Wire, client: Client) -> None:
    """A group id without @g.us raises InputError naming 'group_id'."""
    with pytest.raises(InputError) as caught:
        await client.instance(IID).groups.info("5511999999999")
    assert caught.value.field == "group_id"
    assert wire.calls == []
