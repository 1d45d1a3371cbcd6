"""Fault injection and rate limiting of the simulator, seen from a plain aiohttp client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from vzaps_async.testing import FaultRule, Faults, ManualClock, Simulator, SimulatorConfig

CREATE = "PUT /instances/create"


@pytest_asyncio.fixture
async def http(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    # A fresh connection per request, so a dropped connection cannot affect the next request.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(sim.base_url, connector=connector) as session:
        # aiohttp silently resends an idempotent request (GET, PUT, DELETE...) once after a
        # disconnect; these tests must see the disconnect itself.
        session._retry_connection = False
        yield session


async def create(
    http: aiohttp.ClientSession, auth: dict[str, str], name: str
) -> tuple[int, Any, Any]:
    async with http.put("/instances/create", headers=auth, json={"name": name}) as response:
        return response.status, await response.json(), response.headers


async def test_forced_5xx_answers_error_once(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    """A forced error_5xx answers 503 with the error body once, without creating anything."""
    sim.faults.force(CREATE, "error_5xx")
    status, body, headers = await create(http, auth, "five")
    assert status == 503
    assert body["error_code"] == "INTERNAL_ERROR"
    assert headers["X-Request-Id"]
    assert sim.counters.instances_created["five"] == 0
    status, _, _ = await create(http, auth, "five")
    assert status == 200
    assert sim.counters.faults["error_5xx"] == 1


async def test_forced_429_sends_retry_after(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    """A forced rate_limited fault answers 429 RATE_LIMITED with the configured Retry-After."""
    sim.faults.force(CREATE, "rate_limited", retry_after=7)
    status, body, headers = await create(http, auth, "limited")
    assert status == 429
    assert body["error_code"] == "RATE_LIMITED"
    assert headers["Retry-After"] == "7"


async def test_drop_closes_the_connection_before_applying(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    """A dropped request disconnects the client and changes nothing on the server."""
    sim.faults.force(CREATE, "drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await create(http, auth, "dropped")
    assert sim.counters.instances_created["dropped"] == 0
    assert sim.counters.requests[CREATE] == 1
    assert sim.state.registry.instances == {}


async def test_commit_then_fail_applies_then_disconnects(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    """commit_then_fail creates the instance, then the client sees a disconnect."""
    sim.faults.force(CREATE, "commit_then_fail")
    with pytest.raises(aiohttp.ClientConnectionError):
        await create(http, auth, "committed")
    assert sim.counters.instances_created["committed"] == 1
    async with http.get("/__sim/instances") as response:
        names = [i["name"] for i in (await response.json())["instances"]]
    assert names == ["committed"]
    assert sim.counters.faults["commit_then_fail"] == 1


async def test_rules_apply_only_to_matching_routes(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    """A rule with rate 1.0 faults every matching request and leaves other routes alone."""
    sim.faults.add(FaultRule(route=CREATE, error_5xx=1.0, error_status=502, latency=0.001))
    for _ in range(3):
        assert (await create(http, auth, "never"))[0] == 502
    async with http.post("/instances/list", headers=auth, json={}) as response:
        assert response.status == 200
    assert sim.counters.faults["error_5xx"] == 3
    assert sim.counters.faults["latency"] == 3


async def test_wildcard_rules_cover_every_route(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """A '*' rule applies to every API route but never to the control API."""
    sim.faults.add(FaultRule(route="*", rate_limited=1.0, retry_after=3))
    async with http.get("/health") as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "3"
    async with http.get("/__sim/counters") as response:
        assert response.status == 200


async def test_control_api_sets_rules(sim: Simulator, http: aiohttp.ClientSession) -> None:
    """POST /__sim/faults replaces the rules; invalid rules are 400."""
    rules = {"seed": 3, "rules": [{"route": "GET /health", "drop": 1.0}]}
    async with http.post("/__sim/faults", json=rules) as response:
        assert response.status == 200
    assert sim.faults.rules == [FaultRule(route="GET /health", drop=1.0)]
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.get("/health"):
            pass
    async with http.post("/__sim/faults", json={"rules": [{"drop": 2}]}) as response:
        assert response.status == 400
    async with http.post("/__sim/faults", json={"rules": [{"bogus": 1}]}) as response:
        assert response.status == 400
    forced = {"rules": [], "force": [{"route": "GET /health", "kind": "error_5xx"}]}
    async with http.post("/__sim/faults", json=forced) as response:
        assert response.status == 200
    async with http.get("/health") as response:
        assert response.status == 503


async def test_plain_aiohttp_resends_put_after_commit_then_fail(sim: Simulator) -> None:
    """A default aiohttp session resends PUT after a disconnect, so the server applies it twice."""
    async with aiohttp.ClientSession(sim.base_url) as session:
        async with session.post(
            "/token", json={"client_token": sim.client_token, "client_secret": sim.client_secret}
        ) as response:
            auth = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
        sim.faults.force(CREATE, "commit_then_fail")
        async with session.put("/instances/create", headers=auth, json={"name": "twice"}) as r:
            assert r.status == 200
    assert sim.counters.instances_created["twice"] == 2


def test_seeded_faults_are_reproducible() -> None:
    """Two fault sets with the same seed draw the same faults."""
    rule = FaultRule(error_5xx=0.3, rate_limited=0.3, drop=0.1)
    first = Faults(rules=[rule], seed=42)
    second = Faults(rules=[rule], seed=42)
    draws = [first.decide("GET /health").kind for _ in range(50)]
    assert draws == [second.decide("GET /health").kind for _ in range(50)]
    assert len(set(draws)) > 1


def test_fault_rule_rejects_bad_rates() -> None:
    """A fault probability outside [0, 1] is refused."""
    with pytest.raises(ValueError, match="within"):
        FaultRule(drop=1.5)


@pytest.mark.parametrize("config", [SimulatorConfig(rate_limit_per_second=1, rate_limit_burst=2)])
async def test_per_token_rate_limit(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str], clock: ManualClock
) -> None:
    """The per-token bucket answers 429 with Retry-After when empty and refills with time."""
    statuses = []
    for _ in range(2):
        async with http.post("/instances/list", headers=auth, json={}) as response:
            statuses.append(response.status)
    async with http.post("/instances/list", headers=auth, json={}) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error_code"] == "RATE_LIMITED"
    other = {"Authorization": "Bearer another-token"}
    async with http.post("/instances/list", headers=other, json={}) as response:
        assert response.status == 401  # its own bucket: reaches authentication
    clock.advance(1)
    async with http.post("/instances/list", headers=auth, json={}) as response:
        statuses.append(response.status)
    assert statuses == [200, 200, 200]
