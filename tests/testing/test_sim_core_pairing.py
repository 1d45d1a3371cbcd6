"""The simulator's pairing flow: real QR PNGs that rotate, pair codes, simulated phones, status."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import zxingcpp
from _sim_api import RecordingSink
from PIL import Image

from vzaps_async.testing import ManualClock, PhonePolicy, SimError, Simulator, SimulatorConfig

CONFIG = SimulatorConfig(first_qr_seconds=60, qr_seconds=20, max_qr_attempts=3)


@pytest.fixture
def config() -> SimulatorConfig:
    return CONFIG


@pytest.fixture
def phones() -> PhonePolicy:
    return PhonePolicy.manual()


@pytest_asyncio.fixture
async def sim(
    clock: ManualClock, config: SimulatorConfig, phones: PhonePolicy
) -> AsyncIterator[Simulator]:
    async with Simulator(config, clock=clock, phones=phones) as simulator:
        simulator.state.events = RecordingSink()
        yield simulator


@pytest_asyncio.fixture
async def http(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sim.base_url) as session:
        yield session


@pytest_asyncio.fixture
async def instance(
    sim: Simulator, http: aiohttp.ClientSession, auth: dict[str, str]
) -> dict[str, Any]:
    """A fresh instance, with headers for instance-token auth under ``headers``."""
    async with http.put("/instances/create", json={"name": "pairing"}, headers=auth) as response:
        created: dict[str, Any] = await response.json()
    created["headers"] = {"X-Instance-Token": created["token"], "X-Client-Token": sim.client_token}
    return created


async def get_data(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str]
) -> tuple[int, Any]:
    async with http.get(path, headers=headers) as response:
        body = await response.json()
        return response.status, body.get("data", body)


def decode_qr(data_url: str) -> str:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :])))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    text: str = results[0].text
    return text


async def current_reference(http: aiohttp.ClientSession, instance_id: str) -> str | None:
    async with http.get("/__sim/instances") as response:
        body = await response.json()
    (item,) = [i for i in body["instances"] if i["id"] == instance_id]
    pairing = item["pairing"]
    return pairing["qr_reference"] if pairing else None


async def test_qr_is_a_png_of_the_current_reference(
    http: aiohttp.ClientSession, instance: dict[str, Any]
) -> None:
    """session/qr answers a PNG data URL whose QR encodes the current reference."""
    status, data = await get_data(
        http, f"/instances/{instance['id']}/session/qr", instance["headers"]
    )
    assert status == 200
    assert data["expires_in"] == 60
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", data["expires_at"])
    reference = await current_reference(http, instance["id"])
    assert reference is not None
    assert decode_qr(data["qr_code"]) == reference


async def test_qr_rotates_and_an_old_reference_does_not_pair(
    sim: Simulator,
    http: aiohttp.ClientSession,
    instance: dict[str, Any],
    clock: ManualClock,
    sink: RecordingSink,
) -> None:
    """After rotation a new QR is shown; scanning the old one fails, scanning the new one pairs."""
    path = f"/instances/{instance['id']}/session/qr"
    _, first = await get_data(http, path, instance["headers"])
    old_reference = decode_qr(first["qr_code"])
    clock.advance(61)
    _, second = await get_data(http, path, instance["headers"])
    new_reference = decode_qr(second["qr_code"])
    assert new_reference != old_reference
    assert second["expires_in"] == 19
    with pytest.raises(SimError) as caught:
        await sim.scan(instance["id"], old_reference)
    assert caught.value.error_code == "QR_EXPIRED"
    async with http.post(
        f"/__sim/instances/{instance['id']}/scan", json={"reference": old_reference}
    ) as response:
        assert response.status == 409
    await sim.scan(instance["id"], new_reference)
    _, data = await get_data(http, path, instance["headers"])
    assert data["status"] == "connected"
    assert data["phone"]
    assert [e[1] for e in sink.events] == ["Connected"]
    assert sim.counters.pairings[instance["id"]] == 1


async def test_worker_gives_up_after_max_attempts(
    sim: Simulator, http: aiohttp.ClientSession, instance: dict[str, Any], clock: ManualClock
) -> None:
    """After the last QR expires the worker stops; the next session/qr starts a new pairing."""
    path = f"/instances/{instance['id']}/session/qr"
    _, first = await get_data(http, path, instance["headers"])
    clock.advance(60 + 20 + 20)
    assert await current_reference(http, instance["id"]) is None
    status, data = await get_data(
        http, f"/instances/{instance['id']}/session/status", instance["headers"]
    )
    assert (status, data) == (200, {"connected": False})
    _, again = await get_data(http, path, instance["headers"])
    assert again["expires_in"] == 60
    assert decode_qr(again["qr_code"]) != decode_qr(first["qr_code"])


async def test_status_connected_profile_and_disconnect(
    sim: Simulator, http: aiohttp.ClientSession, instance: dict[str, Any], sink: RecordingSink
) -> None:
    """Connected status lists the profile in contract order; disconnect goes back to false."""
    status_path = f"/instances/{instance['id']}/session/status"
    status, data = await get_data(http, status_path, instance["headers"])
    assert (status, data) == (200, {"connected": False})
    await get_data(http, f"/instances/{instance['id']}/session/qr", instance["headers"])
    await sim.scan(instance["id"])
    _, data = await get_data(http, status_path, instance["headers"])
    assert list(data) == ["connected", "phone", "whatsapp_jid", "push_name", "profile_url"]
    assert data["whatsapp_jid"] == f"{data['phone']}@s.whatsapp.net"
    assert data["profile_url"] == f"https://wa.me/{data['phone']}"
    async with http.post(
        f"/instances/{instance['id']}/session/disconnect", headers=instance["headers"]
    ) as response:
        body = await response.json()
    assert response.status == 200
    assert body["success"] is True
    assert body["data"]["instance_id"] == instance["id"]
    _, data = await get_data(http, status_path, instance["headers"])
    assert data == {"connected": False}
    assert [e[1] for e in sink.events] == ["Connected", "Disconnected"]


async def test_pair_code_format_and_entry(
    sim: Simulator, http: aiohttp.ClientSession, instance: dict[str, Any]
) -> None:
    """paircode answers an XXXX-XXXX code under both keys; typing it pairs with that phone."""
    status, data = await get_data(
        http, f"/instances/{instance['id']}/session/paircode/5511999999999", instance["headers"]
    )
    assert status == 200
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", data["linking_code"])
    assert data["LinkingCode"] == data["linking_code"]
    with pytest.raises(SimError) as caught:
        await sim.enter_pair_code(instance["id"], "AAAA-0000")
    assert caught.value.error_code == "INVALID_PAIR_CODE"
    async with http.post(
        f"/__sim/instances/{instance['id']}/pair", json={"code": data["linking_code"]}
    ) as response:
        body = await response.json()
    assert response.status == 200
    assert body["phone"] == "5511999999999"


@pytest.mark.parametrize("config", [SimulatorConfig(pair_code_seconds=30)])
async def test_pair_code_validates_phone_and_expires(
    sim: Simulator, http: aiohttp.ClientSession, instance: dict[str, Any], clock: ManualClock
) -> None:
    """A phone that is not digits is 400; a code typed after its lifetime does not pair."""
    status, body = await get_data(
        http, f"/instances/{instance['id']}/session/paircode/+55abc", instance["headers"]
    )
    assert status == 400
    assert body["error_code"] == "VALIDATION_ERROR"
    await get_data(
        http, f"/instances/{instance['id']}/session/paircode/5511999999999", instance["headers"]
    )
    clock.advance(30)
    with pytest.raises(SimError) as caught:
        await sim.enter_pair_code(instance["id"])
    assert caught.value.error_code == "PAIR_CODE_EXPIRED"


@pytest.mark.parametrize("phones", [PhonePolicy.scan_after(5, on_qr=2)])
async def test_scan_after_policy_scans_the_nth_qr(
    http: aiohttp.ClientSession, instance: dict[str, Any], clock: ManualClock
) -> None:
    """A scan_after phone scans the Nth QR once it has been visible long enough."""
    status_path = f"/instances/{instance['id']}/session/status"
    await get_data(http, f"/instances/{instance['id']}/session/qr", instance["headers"])
    clock.advance(60 + 4)
    assert (await get_data(http, status_path, instance["headers"]))[1] == {"connected": False}
    clock.advance(1)
    assert (await get_data(http, status_path, instance["headers"]))[1]["connected"] is True


@pytest.mark.parametrize("phones", [PhonePolicy.scan_after(7)])
async def test_scan_after_policy_types_pair_codes(
    http: aiohttp.ClientSession, instance: dict[str, Any], clock: ManualClock
) -> None:
    """A scan_after phone types a pair code the same delay after it was issued."""
    await get_data(
        http, f"/instances/{instance['id']}/session/paircode/5511888888888", instance["headers"]
    )
    clock.advance(7)
    _, data = await get_data(
        http, f"/instances/{instance['id']}/session/status", instance["headers"]
    )
    assert data["phone"] == "5511888888888"


async def test_phone_timer_publishes_connected_without_polling() -> None:
    """With the real clock, a scan_after phone pairs on its own and Connected is published."""
    async with Simulator(phones=PhonePolicy.scan_after(0.01)) as sim:
        sink = RecordingSink()
        sim.state.events = sink
        instance = sim.state.registry.create(sim.account, "timer")
        sim.state.pairing.start(instance)
        await asyncio.wait_for(sink.changed.wait(), timeout=5)
        assert sink.events[0][:2] == (instance.id, "Connected")
        assert instance.connected is True


@pytest.mark.parametrize("config", [SimulatorConfig(worker_start_seconds=2)])
async def test_qr_reports_starting_while_the_worker_starts(
    http: aiohttp.ClientSession, instance: dict[str, Any], clock: ManualClock
) -> None:
    """While the worker starts, session/qr answers status starting without a QR."""
    path = f"/instances/{instance['id']}/session/qr"
    assert (await get_data(http, path, instance["headers"]))[1] == {"status": "starting"}
    clock.advance(2)
    assert "qr_code" in (await get_data(http, path, instance["headers"]))[1]


@pytest.mark.parametrize("config", [SimulatorConfig(require_subscription_for_pairing=True)])
async def test_pairing_can_require_a_subscription(
    http: aiohttp.ClientSession, instance: dict[str, Any], auth: dict[str, str]
) -> None:
    """With require_subscription_for_pairing, session/qr is 402 until the instance subscribes."""
    path = f"/instances/{instance['id']}/session/qr"
    status, body = await get_data(http, path, instance["headers"])
    assert (status, body["error_code"]) == (402, "PAYMENT_REQUIRED")
    async with http.post(f"/instances/{instance['id']}/subscribe", headers=auth) as response:
        assert response.status == 200
    status, data = await get_data(http, path, instance["headers"])
    assert status == 200
    assert "qr_code" in data
