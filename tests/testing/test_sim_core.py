"""The simulator's core routes (token, instances, billing), checked with a plain aiohttp client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import pytest
import pytest_asyncio

from vzaps_async.testing import ManualClock, Simulator, SimulatorConfig

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest_asyncio.fixture
async def http(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sim.base_url) as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
) -> tuple[int, Any, Any]:
    async with http.request(method, path, headers=headers, json=json) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body, response.headers


async def bearer(http: aiohttp.ClientSession, token: str, secret: str) -> dict[str, str]:
    status, body, _ = await call(
        http, "POST", "/token", json={"client_token": token, "client_secret": secret}
    )
    assert status == 200
    return {"Authorization": f"Bearer {body['access_token']}"}


async def create(http: aiohttp.ClientSession, auth: dict[str, str], name: str) -> dict[str, Any]:
    status, body, _ = await call(
        http, "PUT", "/instances/create", headers=auth, json={"name": name}
    )
    assert status == 200
    assert isinstance(body, dict)
    return body


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status
    assert body["code"] == expected_status
    assert body["success"] is False
    assert body["error_code"] == code
    assert body["error"] == body["message"]


async def test_token_answers_top_level_fields(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """POST /token answers access_token, expires_in and token_type at the top level."""
    status, body, headers = await call(
        http,
        "POST",
        "/token",
        json={"client_token": sim.client_token, "client_secret": sim.client_secret},
    )
    assert status == 200
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["expires_in"] == 3600
    assert body["token_type"] == "Bearer"
    assert headers["X-Request-Id"]


async def test_token_refuses_wrong_secret_and_missing_fields(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """Wrong client credentials are 401 and a missing field is 400, both with the error body."""
    status, body, headers = await call(
        http, "POST", "/token", json={"client_token": sim.client_token, "client_secret": "nope"}
    )
    assert_error(status, body, 401, "UNAUTHORIZED")
    assert headers["X-Request-Id"].startswith("req_")
    status, body, _ = await call(http, "POST", "/token", json={"client_token": sim.client_token})
    assert_error(status, body, 400, "VALIDATION_ERROR")
    assert "client_secret" in body["message"]


async def test_health_is_ok(http: aiohttp.ClientSession) -> None:
    """GET /health answers status ok without credentials."""
    status, body, _ = await call(http, "GET", "/health")
    assert (status, body) == (200, {"status": "ok"})


async def test_create_answers_flat_instance(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """PUT /instances/create answers the flat instance object with the contract's fields."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    status, body, _ = await call(
        http,
        "PUT",
        "/instances/create",
        headers=auth,
        json={
            "name": "shop-01",
            "webhook": "https://example.com/hook",
            "events_subscribe": ["Message", "Connected"],
            "labels": {"team": "a"},
        },
    )
    assert status == 200
    assert "success" not in body
    assert re.fullmatch(r"VZ[A-Z0-9]{26}", body["id"])
    assert body["token"].startswith("inst_")
    assert body["url"].endswith(f"/instances/{body['id']}")
    assert body["billing_status"] == "TRIALING"
    assert body["status"] == "created"
    assert body["connected"] is None
    assert body["events_subscribe"] == "Message,Connected"
    assert body["webhook"] == "https://example.com/hook"
    assert body["labels"] == {"team": "a"}
    assert RFC3339_Z.match(body["created_at"])
    assert RFC3339_Z.match(body["updated_at"])


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"name": "ab"}, "VALIDATION_ERROR", "name"),
        ({"name": "x" * 256}, "VALIDATION_ERROR", "name"),
        ({}, "VALIDATION_ERROR", "name"),
        ({"name": "good", "events_subscribe": ["Receipt"]}, "INVALID_EVENT", "events_subscribe"),
        ({"name": "good", "webhook": "ftp://x"}, "VALIDATION_ERROR", "webhook"),
    ],
)
async def test_create_validates_the_body(
    sim: Simulator, http: aiohttp.ClientSession, payload: dict[str, Any], code: str, field: str
) -> None:
    """Invalid create bodies answer 400 with an error naming the field."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    status, body, _ = await call(http, "PUT", "/instances/create", headers=auth, json=payload)
    assert_error(status, body, 400, code)
    assert field in body["message"]


async def test_jwt_only_routes_refuse_instance_token(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """Create, list and billing routes answer 401 to instance-token credentials."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    instance = await create(http, auth, "jwt-only")
    inst_auth = {"X-Instance-Token": instance["token"], "X-Client-Token": sim.client_token}
    for method, path in [
        ("PUT", "/instances/create"),
        ("POST", "/instances/list"),
        ("POST", f"/instances/{instance['id']}/subscribe"),
        ("PUT", f"/instances/{instance['id']}/cancel"),
        ("POST", f"/instances/{instance['id']}/resume-subscription"),
    ]:
        status, body, _ = await call(http, method, path, headers=inst_auth, json={"name": "abc"})
        assert_error(status, body, 401, "UNAUTHORIZED")


async def test_missing_and_expired_jwt_are_401(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """No credentials, an unknown JWT and an expired JWT are all 401."""
    status, body, _ = await call(http, "POST", "/instances/list", json={})
    assert_error(status, body, 401, "UNAUTHORIZED")
    bogus = {"Authorization": "Bearer sim.nothing"}
    status, body, _ = await call(http, "POST", "/instances/list", headers=bogus, json={})
    assert_error(status, body, 401, "UNAUTHORIZED")
    auth = await bearer(http, sim.client_token, sim.client_secret)
    clock.advance(3600)
    status, body, _ = await call(http, "POST", "/instances/list", headers=auth, json={})
    assert_error(status, body, 401, "UNAUTHORIZED")
    assert "expired" in body["message"]


async def test_control_expire_tokens_expires_every_jwt(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """POST /__sim/expire-tokens makes every issued JWT answer 401."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    status, body, _ = await call(http, "POST", "/__sim/expire-tokens")
    assert (status, body) == (200, {"expired": 1})
    status, body, _ = await call(http, "POST", "/instances/list", headers=auth, json={})
    assert_error(status, body, 401, "UNAUTHORIZED")


async def test_instance_routes_accept_owner_credentials_only(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """Instance routes accept the owner's JWT or instance+client token; others get 401/403/404."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    instance = await create(http, auth, "owned")
    sibling = await create(http, auth, "sibling")
    other = sim.add_account()
    other_auth = await bearer(http, other.client_token, other.client_secret)
    path = f"/instances/{instance['id']}/session/status"
    inst_auth = {"X-Instance-Token": instance["token"], "X-Client-Token": sim.client_token}

    assert (await call(http, "GET", path, headers=auth))[0] == 200
    assert (await call(http, "GET", path, headers=inst_auth))[0] == 200
    status, body, _ = await call(http, "GET", path, headers=other_auth)
    assert_error(status, body, 403, "FORBIDDEN")
    wrong_client = {"X-Instance-Token": instance["token"], "X-Client-Token": other.client_token}
    status, body, _ = await call(http, "GET", path, headers=wrong_client)
    assert_error(status, body, 403, "FORBIDDEN")
    wrong_instance = {"X-Instance-Token": sibling["token"], "X-Client-Token": sim.client_token}
    status, body, _ = await call(http, "GET", path, headers=wrong_instance)
    assert_error(status, body, 403, "FORBIDDEN")
    status, body, _ = await call(http, "GET", path)
    assert_error(status, body, 401, "UNAUTHORIZED")
    only_instance = {"X-Instance-Token": instance["token"]}
    status, body, _ = await call(http, "GET", path, headers=only_instance)
    assert_error(status, body, 401, "UNAUTHORIZED")
    status, body, _ = await call(http, "GET", "/instances/VZNOPE/session/status", headers=auth)
    assert_error(status, body, 404, "INSTANCE_NOT_FOUND")


@pytest.mark.parametrize("strict", [False])
async def test_list_pages_filters_and_sorts(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """POST /instances/list pages 1-based, filters by name/id substring and sorts both ways."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    for name in ("alpha-shop", "beta-shop", "gamma-bar"):
        await create(http, auth, name)
    status, body, _ = await call(
        http,
        "POST",
        "/instances/list",
        headers=auth,
        json={"page": 1, "size": 1, "filter": {"query": "SHOP"}, "sort": "name", "sortDesc": True},
    )
    assert status == 200
    assert (body["page"], body["size"], body["total"], body["total_pages"]) == (1, 1, 2, 2)
    assert [i["name"] for i in body["content"]] == ["beta-shop"]
    assert body["content"][0]["token"].startswith("inst_")
    assert body["summary"]["total"] == 2
    status, body, _ = await call(
        http,
        "POST",
        "/instances/list",
        headers=auth,
        json={"page": 2, "size": 2, "sort": "createdAt", "sort_desc": False},
    )
    assert [i["name"] for i in body["content"]] == ["gamma-bar"]
    status, body, _ = await call(http, "POST", "/instances/list", headers=auth, json={"page": 0})
    assert_error(status, body, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("config", [SimulatorConfig(expose_token_in_list=False)])
async def test_list_can_hide_tokens(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """With expose_token_in_list=False, list and get omit the instance token."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    created = await create(http, auth, "hidden")
    _, body, _ = await call(http, "POST", "/instances/list", headers=auth, json={})
    assert "token" not in body["content"][0]
    _, body, _ = await call(http, "GET", f"/instances/{created['id']}", headers=auth)
    assert "token" not in body


async def test_list_only_shows_own_instances(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """An account's list never contains another account's instances."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    await create(http, auth, "mine")
    other = sim.add_account()
    other_auth = await bearer(http, other.client_token, other.client_secret)
    _, body, _ = await call(http, "POST", "/instances/list", headers=other_auth, json={})
    assert body["total"] == 0
    assert body["content"] == []


async def test_get_update_restart_delete(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """Both get forms are flat; PATCH updates; restart is enveloped; DELETE is 204 then 404."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    created = await create(http, auth, "lifecycle")
    iid = created["id"]
    status, by_body, _ = await call(http, "POST", "/instances/get", headers=auth, json={"id": iid})
    status2, by_path, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert status == status2 == 200
    assert by_body == by_path
    assert by_body["id"] == iid
    status, body, _ = await call(
        http,
        "PATCH",
        f"/instances/{iid}",
        headers=auth,
        json={"name": "renamed", "events_subscribe": "Message,ReadReceipt", "reject_calls": True},
    )
    assert status == 200
    assert (body["name"], body["events_subscribe"], body["reject_calls"]) == (
        "renamed",
        "Message,ReadReceipt",
        True,
    )
    status, body, _ = await call(http, "PATCH", f"/instances/{iid}", headers=auth, json={"name": 1})
    assert_error(status, body, 400, "VALIDATION_ERROR")
    status, body, _ = await call(http, "POST", f"/instances/{iid}/restart", headers=auth)
    assert status == 200
    assert body["success"] is True
    assert body["data"]["instance_id"] == iid
    assert set(body["data"]) == {"instance_id", "status", "details"}
    status, body, _ = await call(http, "DELETE", f"/instances/{iid}", headers=auth)
    assert (status, body) == (204, None)
    status, body, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert_error(status, body, 404, "INSTANCE_NOT_FOUND")


async def test_provision_creates_once_per_name(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """PUT /instances/provision returns the existing instance of a name instead of a second one."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    status, first, _ = await call(
        http, "PUT", "/instances/provision", headers=auth, json={"name": "prov"}
    )
    status2, second, _ = await call(
        http, "PUT", "/instances/provision", headers=auth, json={"name": "prov"}
    )
    assert status == status2 == 200
    assert first["id"] == second["id"]
    assert sim.counters.instances_created["prov"] == 1


async def test_search_filters_like_list(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """POST /instances/search answers a page filtered by the query."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    await create(http, auth, "needle-1")
    await create(http, auth, "hay")
    status, body, _ = await call(
        http, "POST", "/instances/search", headers=auth, json={"filter": {"query": "needle"}}
    )
    assert status == 200
    assert [i["name"] for i in body["content"]] == ["needle-1"]


async def test_subscribe_direct_then_conflict(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """Subscribing with a card on file is direct and ACTIVE; a second subscribe is 409."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    iid = (await create(http, auth, "billed"))["id"]
    status, body, _ = await call(http, "POST", f"/instances/{iid}/subscribe", headers=auth, json={})
    assert status == 200
    assert body["success"] is True
    data = body["data"]
    assert (data["url"], data["session_id"], data["mode"]) == (None, None, "direct")
    assert data["subscription_id"].startswith("sub_")
    _, got, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert got["billing_status"] == "ACTIVE"
    status, body, _ = await call(http, "POST", f"/instances/{iid}/subscribe", headers=auth)
    assert_error(status, body, 409, "ALREADY_SUBSCRIBED")
    assert sim.counters.subscriptions[iid] == 1


async def test_subscribe_without_card_and_declined(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """No card answers 402 NO_PAYMENT_METHOD; a declined card answers 402 PAYMENT_REQUIRED."""
    cases: list[tuple[Literal["none", "declined"], str]] = [
        ("none", "NO_PAYMENT_METHOD"),
        ("declined", "PAYMENT_REQUIRED"),
    ]
    for card, code in cases:
        account = sim.add_account(card=card)
        auth = await bearer(http, account.client_token, account.client_secret)
        iid = (await create(http, auth, f"card-{card}"))["id"]
        status, body, _ = await call(http, "POST", f"/instances/{iid}/subscribe", headers=auth)
        assert_error(status, body, 402, code)
        _, got, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
        assert got["billing_status"] == "TRIALING"


@pytest.mark.parametrize("config", [SimulatorConfig(subscribe_without_card="checkout")])
async def test_subscribe_without_card_can_answer_checkout(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """With subscribe_without_card='checkout', no card answers mode checkout with a url."""
    account = sim.add_account(card="none")
    auth = await bearer(http, account.client_token, account.client_secret)
    iid = (await create(http, auth, "checkout"))["id"]
    status, body, _ = await call(http, "POST", f"/instances/{iid}/subscribe", headers=auth)
    assert status == 200
    assert body["data"]["mode"] == "checkout"
    assert body["data"]["url"].startswith("https://")
    status, _, _ = await call(http, "POST", f"/__sim/instances/{iid}/complete-checkout")
    assert status == 200
    _, got, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert got["billing_status"] == "ACTIVE"


async def test_cancel_subscribed_is_scheduled_and_resumable(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Cancel of a subscribed instance sets cancel_at; resume clears it; at cancel_at it expires."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    iid = (await create(http, auth, "cancel-me"))["id"]
    await call(http, "POST", f"/instances/{iid}/subscribe", headers=auth)
    status, body, _ = await call(http, "PUT", f"/instances/{iid}/cancel", headers=auth)
    assert status == 200
    assert set(body) == {"message"}
    _, got, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert got["cancel_at"] is not None
    assert got["billing_status"] == "ACTIVE"
    status, body, _ = await call(
        http, "POST", f"/instances/{iid}/resume-subscription", headers=auth
    )
    assert (status, body) == (200, {"status": "ok"})
    status, body, _ = await call(
        http, "POST", f"/instances/{iid}/resume-subscription", headers=auth
    )
    assert_error(status, body, 409, "NO_SCHEDULED_CANCEL")
    await call(http, "DELETE", f"/instances/{iid}/cancel", headers=auth)
    clock.advance(31 * 86400)
    auth = await bearer(http, sim.client_token, sim.client_secret)  # the old JWT expired too
    _, got, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert got["billing_status"] == "CANCELED"
    assert got["expired_at"] is not None
    assert got["cancel_at"] is None


async def test_cancel_trialing_is_immediate(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """Cancel of a trialing instance is immediate: CANCELED with expired_at."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    iid = (await create(http, auth, "trial-cancel"))["id"]
    status, body, _ = await call(http, "DELETE", f"/instances/{iid}/cancel", headers=auth)
    assert status == 200
    assert body["message"]
    _, got, _ = await call(http, "GET", f"/instances/{iid}", headers=auth)
    assert (got["billing_status"], got["cancel_at"]) == ("CANCELED", None)
    assert got["expired_at"] is not None


async def test_unknown_route_answers_error_body(http: aiohttp.ClientSession) -> None:
    """An unknown route answers 404 with the contract's error body."""
    status, body, _ = await call(http, "GET", "/no/such/route")
    assert_error(status, body, 404, "NOT_FOUND")


async def test_counters_and_control_routes(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """Counters count requests per route template and creations; control routes list state."""
    auth = await bearer(http, sim.client_token, sim.client_secret)
    created = await create(http, auth, "counted")
    await create(http, auth, "counted")
    status, body, _ = await call(http, "GET", "/__sim/counters")
    assert status == 200
    assert body["requests"]["PUT /instances/create"] == 2
    assert body["requests"]["POST /token"] == 1
    assert body["instances_created"] == {"counted": 2}
    assert body["totals"]["instances_created"] == 2
    assert not any(key.startswith(("GET /__sim", "POST /__sim")) for key in body["requests"])
    status, body, _ = await call(http, "GET", "/__sim/instances")
    tokens = {i["id"]: i["token"] for i in body["instances"]}
    assert tokens[created["id"]] == created["token"]
    status, account, _ = await call(http, "POST", "/__sim/accounts", json={"card": "none"})
    assert status == 200
    assert account["card"] == "none"
    assert (await bearer(http, account["client_token"], account["client_secret"]))["Authorization"]
