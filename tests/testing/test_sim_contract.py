"""The strict simulator refuses what the contract does not document; the lenient one records it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from vzaps_async import Client, ClientConfig, RetryPolicy
from vzaps_async.testing import Simulator, SimulatorConfig
from vzaps_async.testing.__main__ import _config, build_parser
from vzaps_async.testing._app import build_app, route_key
from vzaps_async.testing._contract import ROUTES
from vzaps_async.testing._model import SimInstance
from vzaps_async.testing._state import SimState

PHONE = "5511999999999"


async def _open(strict: bool, **config: Any) -> tuple[Simulator, SimInstance]:
    sim = Simulator(SimulatorConfig(**config), strict=strict)
    await sim.start()
    return sim, sim.state.registry.create(sim.account, "contract")


@pytest.fixture(params=[True, False], ids=["strict", "lenient"])
async def setup(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Simulator, SimInstance, aiohttp.ClientSession]]:
    sim, instance = await _open(request.param)
    headers = {"X-Instance-Token": instance.token, "X-Client-Token": sim.client_token}
    async with aiohttp.ClientSession(base_url=sim.base_url, headers=headers) as http:
        yield sim, instance, http
    await sim.aclose()


async def _post(http: aiohttp.ClientSession, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.post(path, **kwargs) as resp:
        return resp.status, await resp.json()


# Each: a request that differs from the documented form, and the field the 400 names first.
DEVIATIONS: list[tuple[str, str, dict[str, Any], str]] = [
    ("alias", "webhook", {"json": {"webhook_url": "http://127.0.0.1:9/h"}}, "webhook_url"),
    (
        "type",
        "webhook",
        {"json": {"webhookURL": "http://127.0.0.1:9/h", "events": ["Message"]}},
        "events",
    ),
    (
        "unknown field",
        "chat/send/text",
        {"json": {"phone": PHONE, "message": "hi", "text": "x"}},
        "text",
    ),
    (
        "vote alias",
        "chat/poll/vote",
        {"json": {"phone": PHONE, "message_id": "M1", "vote": ["a"]}},
        "vote",
    ),
    (
        "content type",
        "chat/send/text",
        {"data": b'{"phone": "5511999999999", "message": "hi"}'},
        "Content-Type",
    ),
]


@pytest.mark.parametrize(
    ("case", "route", "kwargs", "field"), DEVIATIONS, ids=[d[0] for d in DEVIATIONS]
)
async def test_a_deviation_is_refused_when_strict_and_recorded_when_lenient(
    setup: tuple[Simulator, SimInstance, aiohttp.ClientSession],
    case: str,
    route: str,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    """Strict answers 400 naming the field and the documented form; lenient records it."""
    sim, instance, http = setup
    status, body = await _post(http, f"/instances/{instance.id}/{route}", **kwargs)
    async with http.get("/__sim/contract") as resp:
        report = await resp.json()
    if sim.state.config.strict:
        assert status == 400
        assert body["error_code"] == "VALIDATION_ERROR"
        assert body["message"].startswith(f"{field}: ")
        assert "documents" in body["message"]
        assert report == {"strict": True, "deviations": [], "dropped": 0}
    else:
        fields = [d["field"] for d in report["deviations"]]
        assert field in fields
        [entry] = [d for d in report["deviations"] if d["field"] == field]
        assert entry["route"].startswith("POST /instances/{id}/")
        assert entry["count"] == 1
        assert {"sent", "documented"} <= set(entry)
        assert sim.deviations() == report["deviations"]


async def test_the_documented_form_passes_strict() -> None:
    """A body in the documented form is accepted by the strict simulator."""
    sim, instance = await _open(True)
    headers = {"X-Instance-Token": instance.token, "X-Client-Token": sim.client_token}
    try:
        async with aiohttp.ClientSession(base_url=sim.base_url, headers=headers) as http:
            status, body = await _post(
                http,
                f"/instances/{instance.id}/webhook",
                json={"webhookURL": "http://127.0.0.1:9/h", "events": "Message"},
            )
            assert (status, body["data"]["webhook"]) == (200, "http://127.0.0.1:9/h")
    finally:
        await sim.aclose()


async def test_an_unknown_query_parameter_is_refused_when_strict() -> None:
    """A query parameter the route does not take is a 400 naming it."""
    sim, instance = await _open(True)
    headers = {"X-Instance-Token": instance.token, "X-Client-Token": sim.client_token}
    try:
        async with (
            aiohttp.ClientSession(base_url=sim.base_url, headers=headers) as http,
            http.get(f"/instances/{instance.id}/group/list", params={"size": "5"}) as resp,
        ):
            assert resp.status == 400
            assert (await resp.json())["message"].startswith("size: ")
    finally:
        await sim.aclose()


async def test_credentials_are_checked_before_the_form() -> None:
    """A malformed request without credentials answers 401, as the handler would."""
    sim, instance = await _open(True)
    try:
        async with aiohttp.ClientSession(base_url=sim.base_url) as http:
            status, body = await _post(
                http, f"/instances/{instance.id}/webhook", json={"webhook_url": "http://x/h"}
            )
        assert (status, body["error_code"]) == (401, "UNAUTHORIZED")
    finally:
        await sim.aclose()


def test_every_simulator_route_has_a_contract() -> None:
    """Each route the simulator serves (control routes aside) has a documented form in ROUTES."""
    app = build_app(SimState())
    keys = {
        f"{r.method} {r.resource.canonical}"
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    served = {k for k in keys if " /__sim/" not in k} - {"POST /instances/{id}/webhook"}
    assert served - set(ROUTES) == set()
    assert set(ROUTES) - served == set()
    assert route_key  # the middleware names routes the same way: "METHOD /template"


def test_cli_strict_flag() -> None:
    """--strict and --webhook-reads reach the simulator's config."""
    args = build_parser().parse_args(["--strict", "--webhook-reads", "webhook_url"])
    config = _config(args)
    assert (config.strict, config.webhook_reads) == (True, "webhook_url")
    assert _config(build_parser().parse_args([])).strict is False


def test_the_suite_runs_simulators_strict() -> None:
    """This project's tests build strict simulators unless a test asks for a lenient one."""
    assert Simulator().state.config.strict is True
    assert Simulator(strict=False).state.config.strict is False


@pytest.mark.parametrize("events", [None, ["Message", "Connected"]], ids=["url-only", "events"])
@pytest.mark.parametrize("reads", ["webhook_url", "webhookURL"])
@pytest.mark.parametrize("first", ["webhookURL", "webhook_url"])
async def test_webhook_set_ends_stored_whichever_form_the_server_reads(
    reads: str, first: str, events: list[str] | None
) -> None:
    """Against a server reading only one form, set stores the webhook, starting from either form.

    Without events the other form is answered 200 and silently ignored (the read-back catches
    it); with events, their type in the other form is refused with 400 (the fallback catches it).
    """
    from vzaps_async import WireForms

    sim, instance = await _open(True, webhook_reads=reads)
    config = ClientConfig(
        base_url=sim.base_url, retry=RetryPolicy(sleep=False), wire=WireForms(webhook_set=first)
    )
    try:
        async with Client(sim.client_token, sim.client_secret, config=config) as client:
            hook = client.instance(instance.id, instance.token).webhook
            await hook.set("http://127.0.0.1:9/hook", events)
            assert instance.webhook_url == "http://127.0.0.1:9/hook"
            if events is not None:
                assert list(instance.events_subscribe) == events
            assert client.transport.learned == {"webhook_set": reads}
            # The form learned is used at once the next time.
            await hook.set("http://127.0.0.1:9/other")
            assert instance.webhook_url == "http://127.0.0.1:9/other"
    finally:
        await sim.aclose()
