"""Instances and billing API: what goes on the wire and how answers are read."""

from __future__ import annotations

import pytest
from _wire import IID, INSTANCE_TOKEN, Wire, envelope

from vzaps_async._client import Client
from vzaps_async.errors import InputError, ResponseError
from vzaps_async.models import BillingStatus, InstanceInfo, StatusResult, SubscriptionMode

CREATED = {
    "id": IID,
    "name": "shop-01",
    "token": INSTANCE_TOKEN,
    "url": f"https://app.vzaps.com/instances/{IID}",
    "webhook": "https://example.com/hook",
    "events_subscribe": "Message,Connected,Disconnected",
    "reject_calls": False,
    "auto_read_messages": False,
    "connected": None,
    "billing_status": "TRIALING",
    "created_at": "2026-04-13T10:00:00Z",
    "updated_at": "2026-04-13T10:00:00Z",
}


def summary(n: int, name: str | None = None) -> dict[str, object]:
    """An instance summary with a numbered id."""
    return {"id": f"VZ{n:04d}", "name": name or f"inst-{n}"}


async def test_create_sends_put_with_events_array(wire: Wire, client: Client) -> None:
    """create is a JWT PUT whose body lists events as a JSON array and returns the token."""
    wire.reply("PUT", "/instances/create", CREATED)
    info = await client.instances.create(
        "shop-01", webhook="https://example.com/hook", events="Message,Connected", labels={"a": 1}
    )
    call = wire.last
    assert (call.method, call.path, call.auth) == ("PUT", "/instances/create", "jwt")
    assert call.json == {
        "name": "shop-01",
        "webhook": "https://example.com/hook",
        "events_subscribe": ["Message", "Connected"],
        "labels": {"a": 1},
    }
    assert info.id == IID
    assert info.token is not None
    assert info.token.reveal() == INSTANCE_TOKEN
    assert info.billing_status is BillingStatus.TRIALING
    assert info.events_subscribe == ("Message", "Connected", "Disconnected")


async def test_list_sends_documented_body(wire: Wire, client: Client) -> None:
    """list POSTs page, size, filter.query and the documented sortDesc spelling."""
    wire.reply(
        "POST",
        "/instances/list",
        {
            "page": 2,
            "size": 5,
            "total": 6,
            "total_pages": 2,
            "content": [summary(6)],
            "summary": {"active": 1},
        },
    )
    page = await client.instances.list(
        page=2, size=5, query="shop", sort="createdAt", sort_desc=True
    )
    assert wire.last.json == {
        "page": 2,
        "size": 5,
        "filter": {"query": "shop"},
        "sort": "createdAt",
        "sortDesc": True,
    }
    assert wire.last.auth == "jwt"
    assert page.total_pages == 2
    assert page.content[0].id == "VZ0006"
    assert page.summary == {"active": 1}


async def test_iter_walks_every_page(wire: Wire, client: Client) -> None:
    """iter requests pages until the reported last page and yields every instance once."""
    wire.reply(
        "POST",
        "/instances/list",
        envelope(
            {
                "page": 1,
                "size": 2,
                "total": 3,
                "total_pages": 2,
                "content": [summary(1), summary(2)],
            }
        ),
    )
    wire.reply(
        "POST",
        "/instances/list",
        envelope({"page": 2, "size": 2, "total": 3, "total_pages": 2, "content": [summary(3)]}),
    )
    ids = [info.id async for info in client.instances.iter(page_size=2)]
    assert ids == ["VZ0001", "VZ0002", "VZ0003"]
    assert [c.json["page"] for c in wire.calls] == [1, 2]


async def test_find_by_name_keeps_exact_matches(wire: Wire, client: Client) -> None:
    """find_by_name searches by query and returns only instances with exactly that name."""
    wire.reply(
        "POST",
        "/instances/list",
        {
            "content": [summary(1, "shop"), summary(2, "shop-2"), summary(3, "shop")],
            "total_pages": 1,
        },
    )
    found = await client.instances.find_by_name("shop")
    assert [i.id for i in found] == ["VZ0001", "VZ0003"]
    assert wire.last.json["filter"] == {"query": "shop"}


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (lambda c: c.instances.get(IID), "POST", "/instances/get", {"id": IID}),
        (
            lambda c: c.instances.update(IID, name="new-name", reject_calls=True),
            "PATCH",
            f"/instances/{IID}",
            {"name": "new-name", "reject_calls": True},
        ),
        (
            lambda c: c.instances.provision("shop-02"),
            "PUT",
            "/instances/provision",
            {"name": "shop-02"},
        ),
    ],
)
async def test_instance_reads_and_writes(
    wire: Wire, client: Client, call: object, method: str, path: str, body: object
) -> None:
    """get, update and provision hit their documented routes with the JWT and return a summary."""
    wire.reply(method, path, summary(1))
    info = await call(client)  # type: ignore[operator]
    assert (wire.last.method, wire.last.path, wire.last.auth, wire.last.json) == (
        method,
        path,
        "jwt",
        body,
    )
    assert isinstance(info, InstanceInfo)


async def test_restart_delete_and_search(wire: Wire, client: Client) -> None:
    """restart returns the action result, delete accepts 204, search posts the free-form filter."""
    wire.reply(
        "POST",
        f"/instances/{IID}/restart",
        envelope({"instance_id": IID, "status": "restarting", "details": "ok"}),
    )
    result = await client.instances.restart(IID)
    assert result.status == "restarting"
    assert result.instance_id == IID
    wire.reply("DELETE", f"/instances/{IID}", None, status=204)
    assert await client.instances.delete(IID) == StatusResult()
    assert (wire.last.method, wire.last.auth) == ("DELETE", "jwt")
    wire.reply("POST", "/instances/search", {"content": []})
    page = await client.instances.search({"status": "connected"}, page=1)
    assert wire.last.json == {"status": "connected", "page": 1}
    assert page.content == ()


async def test_billing_routes(wire: Wire, client: Client) -> None:
    """subscribe, cancel and resume use the JWT and read their documented bodies."""
    wire.reply(
        "POST",
        f"/instances/{IID}/subscribe",
        envelope({"url": None, "session_id": None, "mode": "direct", "subscription_id": "sub_1"}),
    )
    sub = await client.instances.subscribe(IID)
    assert wire.last.json == {}
    assert wire.last.auth == "jwt"
    assert sub.mode is SubscriptionMode.DIRECT
    assert sub.subscription_id == "sub_1"
    await client.instance(IID, INSTANCE_TOKEN).billing.subscribe(billing_type="checkout")
    assert wire.last.json == {"billing_type": "checkout"}
    assert wire.last.auth == "jwt"
    wire.reply("DELETE", f"/instances/{IID}/cancel", {"message": "Instance canceled successfully"})
    cancelled = await client.instances.cancel(IID, method="DELETE")
    assert cancelled.message == "Instance canceled successfully"
    wire.reply("POST", f"/instances/{IID}/resume-subscription", {"status": "ok"})
    assert await client.instances.resume(IID) == StatusResult(status="ok")
    assert wire.last.path == f"/instances/{IID}/resume-subscription"


async def test_subscription_mode_unknown_value_is_kept(wire: Wire, client: Client) -> None:
    """A subscription mode the SDK does not know stays available as the raw string."""
    wire.reply("POST", f"/instances/{IID}/subscribe", {"mode": "invoice"})
    assert (await client.instances.subscribe(IID)).mode == "invoice"


async def test_create_response_without_id_is_a_response_error(wire: Wire, client: Client) -> None:
    """A create answer missing the required id raises ResponseError naming the field."""
    wire.reply("PUT", "/instances/create", {"name": "shop-01"})
    with pytest.raises(ResponseError, match=r"InstanceInfo\.id"):
        await client.instances.create("shop-01")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "ab"}, "name"),
        ({"name": "shop", "webhook": "ftp://x"}, "webhook"),
        ({"name": "shop", "events": ["MessageRead"]}, "events[0]"),
        ({"name": "shop", "reject_calls": "yes"}, "reject_calls"),
    ],
)
async def test_create_rejects_bad_input_before_sending(
    wire: Wire, client: Client, kwargs: dict[str, object], field: str
) -> None:
    """Invalid create arguments raise InputError naming the field and send nothing."""
    with pytest.raises(InputError) as caught:
        await client.instances.create(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert wire.calls == []
