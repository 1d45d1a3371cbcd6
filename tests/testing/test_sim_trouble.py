"""Simulated phones that misbehave: drops that recover, logouts, zombies cured by a restart."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from _sim_api import RecordingSink

from vzaps_async._client import Client
from vzaps_async._handle import Instance
from vzaps_async.testing import ManualClock, PhonePolicy, SimError, Simulator


@pytest_asyncio.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    async with Simulator(clock=clock, phones=PhonePolicy.scan_after(1.0)) as simulator:
        simulator.state.events = RecordingSink()
        yield simulator


@pytest_asyncio.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as c:
        yield c


async def connected(sim: Simulator, client: Client, clock: ManualClock) -> Instance:
    """A connected instance (paired by its simulated phone)."""
    info = await client.instances.create("trouble")
    assert info.token is not None
    handle = client.instance(info.id, info.token)
    await handle.session.qr()
    clock.advance(1.5)
    assert (await handle.session.status()).connected
    return handle


async def test_a_drop_recovers_by_itself_with_events(
    sim: Simulator, client: Client, clock: ManualClock, sink: RecordingSink
) -> None:
    """A drop reads disconnected, emits Disconnected, and reconnects (Connected) after N s."""
    handle = await connected(sim, client, clock)
    await sim.drop(handle.id, 5.0)
    assert not (await handle.session.status()).connected
    clock.advance(4.0)
    assert not (await handle.session.status()).connected
    clock.advance(1.5)
    assert (await handle.session.status()).connected
    kinds = [kind for (_, kind, _) in sink.events]
    assert kinds == ["Connected", "Disconnected", "Connected"]
    assert sink.events[1][2] == {"reason": "connection lost"}
    assert sim.counters.snapshot()["drops"] == {handle.id: 1}
    assert sim.counters.pairings[handle.id] == 1  # it came back without a new pairing


async def test_a_logout_needs_a_new_pairing_which_the_phone_scans(
    sim: Simulator, client: Client, clock: ManualClock, sink: RecordingSink
) -> None:
    """After a logout the session stays gone until a new QR is shown and scanned."""
    handle = await connected(sim, client, clock)
    await sim.logout(handle.id)
    clock.advance(3600)
    assert not (await handle.session.status()).connected
    assert sink.events[-1][1:] == ("Disconnected", {"reason": "logout"})
    qr = await handle.session.qr()
    assert qr.qr_code is not None
    clock.advance(1.5)
    assert (await handle.session.status()).connected
    assert sim.counters.pairings[handle.id] == 2
    assert sim.counters.totals["logouts"] == 1


async def test_a_zombie_says_connected_keeps_sends_queued_until_restarted(
    sim: Simulator, client: Client, clock: ManualClock, sink: RecordingSink
) -> None:
    """A zombie reports connected, queues every send and emits nothing; a restart cures it."""
    handle = await connected(sim, client, clock)
    await sim.zombie(handle.id)
    events_before = len(sink.events)
    sent = await handle.messages.send_text("5511988887777", "hello")
    clock.advance(60)
    assert (await handle.session.status()).connected
    queued = await handle.queues.messages()
    assert [item.message_id for item in queued.content] == [sent.message_id]
    assert len(sink.events) == events_before
    await client.instances.restart(handle.id)
    assert (await handle.queues.messages()).content == ()
    assert sim.counters.totals["restarts"] == 1
    assert sim.counters.totals["zombies"] == 1


async def test_a_stubborn_zombie_survives_a_restart_and_a_repair_cures_it(
    sim: Simulator, client: Client, clock: ManualClock
) -> None:
    """A zombie cured only by re-pairing stays stuck after a restart, and heals once re-paired."""
    handle = await connected(sim, client, clock)
    await sim.zombie(handle.id, cured_by="repair")
    await handle.messages.send_text("5511988887777", "hello")
    await client.instances.restart(handle.id)
    assert len((await handle.queues.messages()).content) == 1
    await handle.session.disconnect()
    await handle.session.qr()
    clock.advance(1.5)
    assert (await handle.session.status()).connected
    assert (await handle.queues.messages()).content == ()


async def test_control_routes_drop_logout_and_zombie(
    sim: Simulator, client: Client, clock: ManualClock
) -> None:
    """The /__sim/ routes do what the Python methods do and refuse bad input by field."""
    handle = await connected(sim, client, clock)
    base = f"/__sim/instances/{handle.id}"
    async with aiohttp.ClientSession(sim.base_url) as http:
        async with http.post(f"{base}/drop", json={}) as response:
            assert response.status == 400
            assert "seconds" in (await response.json())["message"]
        async with http.post(f"{base}/zombie", json={"cured_by": "magic"}) as response:
            assert response.status == 400
        async with http.post(f"{base}/zombie", json={}) as response:
            assert (await response.json())["zombie"] == "restart"
        async with http.post(f"{base}/drop", json={"seconds": 2}) as response:
            body = await response.json()
            assert (body["connected"], body["drop_until"] is not None) == (False, True)
        async with http.post(f"{base}/logout") as response:
            assert response.status == 409  # dropped: nothing left to log out
        clock.advance(2.5)
        async with http.post(f"{base}/logout") as response:
            assert (await response.json())["connected"] is False
        async with http.get("/__sim/counters") as response:
            totals = (await response.json())["totals"]
    assert (totals["drops"], totals["logouts"], totals["zombies"]) == (1, 1, 1)


async def test_misbehaving_needs_a_connected_session(sim: Simulator, client: Client) -> None:
    """Dropping, logging out or zombifying a session that is not connected is a 409."""
    info = await client.instances.create("never-paired")
    for act in (sim.drop(info.id, 1.0), sim.logout(info.id), sim.zombie(info.id)):
        with pytest.raises(SimError) as caught:
            await act
        assert caught.value.status == 409


async def test_a_drop_fires_its_connected_event_on_time() -> None:
    """On the real clock the recovery happens (and emits Connected) without any request."""
    async with Simulator(phones=PhonePolicy.scan_after(0.0)) as sim:
        sink = RecordingSink()
        sim.state.events = sink
        async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client:
            info = await client.instances.create("on-time")
            await client.instance(info.id, info.token).session.qr()
            await asyncio.sleep(0.05)
            await sim.drop(info.id, 0.1)
            for _ in range(100):
                if sink.events[-1][1] == "Connected":
                    break
                await asyncio.sleep(0.02)
    assert [kind for (_, kind, _) in sink.events] == ["Connected", "Disconnected", "Connected"]


async def test_fleet_wide_trouble_rates_make_connected_phones_misbehave(
    sim: Simulator, client: Client, clock: ManualClock
) -> None:
    """A phone policy with a logout rate logs connected sessions out on its own, counted."""
    handle = await connected(sim, client, clock)
    sim.state.phones = PhonePolicy.scan_after(1.0).with_trouble(logout_rate=1e9)
    assert (await handle.session.status()).connected  # the first look starts the clock
    clock.advance(1.0)
    assert not (await handle.session.status()).connected
    assert sim.counters.misbehaviour["logouts"] == {handle.id: 1}
    await handle.session.qr()  # the phone pairs again as before
    clock.advance(1.5)
    sim.state.phones = PhonePolicy.scan_after(1.0)
    assert (await handle.session.status()).connected


def test_trouble_rates_parse_from_the_cli_form() -> None:
    """The --phones form takes trouble rates after the scan behaviour, and refuses unknown keys."""
    policy = PhonePolicy.parse("scan-after=2,drop-rate=6,drop-seconds=5,zombie-rate=1")
    assert (policy.seconds, policy.drop_rate, policy.drop_seconds) == (2.0, 6.0, 5.0)
    assert (policy.zombie_rate, policy.logout_rate, policy.troubled) == (1.0, 0.0, True)
    assert PhonePolicy.parse("manual,logout-rate=1").logout_rate == 1.0
    assert not PhonePolicy.parse("manual").troubled
    with pytest.raises(ValueError, match="drop-rate"):
        PhonePolicy.parse("scan-after=2,flood=1")
    with pytest.raises(ValueError, match="logout_rate"):
        PhonePolicy.manual().with_trouble(logout_rate=-1)


def test_no_trouble_is_drawn_without_rates() -> None:
    """Without rates a phone never misbehaves, whatever the interval."""
    assert PhonePolicy.scan_after(1.0).trouble(1e9, random.Random(1)) is None
