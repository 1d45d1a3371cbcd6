"""The supervisor keeps an onboarded fleet connected through drops, logouts and zombies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import anyio
import attrs
import pytest
from _shared import FAST, wait_for

from vzaps_async._client import Client
from vzaps_async._routes import route_template
from vzaps_async.errors import InputError, JournalError
from vzaps_async.models.events import parse_event
from vzaps_async.onboarding import (
    Connected,
    Disconnected,
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    NullPresenter,
    Restarted,
    Snapshot,
    Stalled,
    State,
    Supervisor,
    SupervisorOptions,
    SupervisorReport,
    Transition,
    transition,
)
from vzaps_async.onboarding._metrics import Metrics
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig
from vzaps_async.webhooks import Router

QUICK_QR = SimulatorConfig(first_qr_seconds=2.0, qr_seconds=2.0)
# Short intervals so a whole incident plays out in about a second.
WATCHFUL = SupervisorOptions(
    probe_interval=0.2,
    trouble_interval=0.1,
    grace_period=2.5,
    stuck_after=0.5,
    restart_wait=0.5,
    repair_backoff=0.0,
    onboarding=FAST,
)


async def onboarded(
    sim: Simulator, client: Client, journal: MemoryJournal, count: int
) -> dict[str, str]:
    """Onboard ``count`` instances; return their ids by name."""
    specs = [InstanceSpec(f"shop-{i:03}") for i in range(count)]
    report = await Fleet(client, journal, specs, options=FleetOptions(onboarding=FAST)).run()
    assert report.all_connected
    return {s.name: s.instance_id for s in await journal.load_all() if s.instance_id}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(QUICK_QR, phones=PhonePolicy.scan_after(0.05)) as simulator:
        yield simulator


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def client(sim: Simulator, metrics: Metrics) -> AsyncIterator[Client]:
    async with Client(
        sim.client_token, sim.client_secret, base_url=sim.base_url, on_response=metrics.on_response
    ) as c:
        metrics.cooldown = c.transport.cooldown
        yield c


async def test_a_fleet_of_100_heals_drops_logouts_and_zombies(
    sim: Simulator, client: Client, metrics: Metrics
) -> None:
    """10 short drops are left alone, 5 logouts re-paired once, 5 zombies restarted (the 2 a
    restart does not cure re-paired), all 100 end connected, nothing is created or billed, and
    /metrics shows it while it runs."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 100)
    names = sorted(ids)
    drops, logouts, cured, stubborn = names[:10], names[10:15], names[15:18], names[18:20]
    created, subscribed = dict(sim.counters.instances_created), dict(sim.counters.subscriptions)
    supervisor = Supervisor(client, journal, options=WATCHFUL, observer=metrics.observe)
    metrics.states = lambda: supervisor.counts

    def healed() -> bool:
        snaps = supervisor.snapshots
        return all(s.state is State.CONNECTED for s in snaps.values()) and all(
            snaps[n].repairs == 1 for n in logouts + stubborn
        )

    async with anyio.create_task_group() as tg:

        async def supervise() -> None:
            report = await supervisor.run()
            reports.append(report)

        reports: list[SupervisorReport] = []
        tg.start_soon(supervise)
        await anyio.sleep(0.5)
        for name in drops:
            await sim.drop(ids[name], 1.2)
        for name in logouts:
            await sim.logout(ids[name])
        for name in cured + stubborn:
            await sim.zombie(ids[name], cured_by="restart" if name in cured else "repair")
            await client.instance(ids[name]).messages.send_text("5511988887777", "stuck?")
        # A healthy instance's message goes out at once: its queue is no sign of trouble.
        await client.instance(ids[names[-1]]).messages.send_text("5511988887777", "fine")
        await anyio.sleep(1.4)  # every drop has come back by itself
        await wait_for(healed)
        async with (
            metrics.serve() as url,
            aiohttp.ClientSession() as http,
            http.get(url) as response,
        ):
            scraped = await response.text()
        supervisor.stop()
    snaps = {s.name: s for s in await journal.load_all()}
    assert all(s.state is State.CONNECTED for s in snaps.values())
    history = {n: (s.disconnects, s.repairs, s.restarts) for n, s in snaps.items()}
    for name in drops + names[20:]:
        assert history[name] == (0, 0, 0), name
    for name in logouts:
        assert history[name] == (1, 1, 0), name
        assert snaps[name].last_seen_connected_at is not None
    for name in cured:
        assert history[name] == (0, 0, 1), name
    for name in stubborn:
        assert history[name][1:] == (1, 1), name
    assert sim.counters.misbehaviour["restarts"].keys() == {ids[n] for n in cured + stubborn}
    for name in cured + stubborn:
        assert (await client.instance(ids[name]).queues.messages()).content == ()
    # Money: not one create or subscribe more.
    assert dict(sim.counters.instances_created) == created
    assert dict(sim.counters.subscriptions) == subscribed
    (report,) = reports
    assert (report.supervised, report.repairs, report.stalls) == (100, 7, 5)
    assert report.all_connected
    # Every drop happened, was seen by a probe, and was left alone.
    assert sim.counters.misbehaviour["drops"] == {ids[n]: 1 for n in drops}
    assert report.short_drops == 10
    lines = set(scraped.splitlines())
    assert 'vzaps_instances{state="CONNECTED"} 100.0' in lines
    assert "vzaps_repairs_total 7.0" in lines
    assert "vzaps_restarts_total 5.0" in lines
    assert "vzaps_rate_limit_cooldowns_total 0.0" in lines
    status_route = 'route="/instances/{id}/session/status",status="200"'
    assert any(status_route in line for line in lines if line.startswith("vzaps_requests_total"))


async def test_a_drop_within_the_grace_period_changes_nothing(
    sim: Simulator, client: Client
) -> None:
    """A session that comes back before the grace period ends is not journaled nor re-paired."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    before = await journal.get(name)
    supervisor = Supervisor(client, journal, options=WATCHFUL)
    probes = "GET /instances/{id}/session/status"
    reports: list[SupervisorReport] = []

    async def supervise() -> None:
        reports.append(await supervisor.run())

    async with anyio.create_task_group() as tg:
        tg.start_soon(supervise)
        await sim.drop(ids[name], 1.0)
        seen = sim.counters.requests[probes]
        await anyio.sleep(1.6)
        supervisor.stop()
    assert await journal.get(name) == before
    assert sim.counters.pairings[ids[name]] == 1
    # The drop was probed (not merely missed) and counted as a short drop.
    assert sim.counters.requests[probes] > seen
    assert reports[0].short_drops == 1


async def test_a_logout_event_skips_the_grace_period(sim: Simulator, client: Client) -> None:
    """A Disconnected event saying "logout" re-pairs at once, without waiting out the grace."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    patient = SupervisorOptions(
        probe_interval=60, trouble_interval=0.1, grace_period=60, onboarding=FAST
    )
    supervisor = Supervisor(client, journal, options=patient)
    async with anyio.create_task_group() as tg:
        tg.start_soon(supervisor.run)
        await anyio.sleep(0.1)
        await sim.logout(ids[name])
        # Through a webhook router, as the docs show.
        router = Router()
        router.add(supervisor.feed, "Connected", "Disconnected")
        event = {"type": "Disconnected", "instance_id": ids[name], "data": {"reason": "logout"}}
        assert await router.dispatch(parse_event(event))
        await wait_for(lambda: supervisor.snapshots[name].repairs == 1, seconds=5)
        await wait_for(lambda: supervisor.snapshots[name].state is State.CONNECTED, seconds=5)
        supervisor.stop()
    snap = await journal.get(name)
    assert snap is not None
    assert (snap.state, snap.incident, snap.disconnects) == (State.CONNECTED, None, 1)


async def test_repairs_are_capped_per_instance(sim: Simulator, client: Client) -> None:
    """An instance that needs more re-pairs than allowed ends FAILED with a reason, once."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    capped = SupervisorOptions(
        probe_interval=0.1, trouble_interval=0.05, grace_period=0, max_repairs=0, onboarding=FAST
    )
    supervisor = Supervisor(client, journal, options=capped)
    await sim.logout(ids[name])
    report = await supervisor.run(duration=5)
    snap = await journal.get(name)
    assert snap is not None
    assert snap.state is State.FAILED
    assert snap.failure is not None
    assert "re-paired 0 time(s)" in snap.failure
    assert [f.name for f in report.failures] == [name]


class FailureRecorder(NullPresenter):
    """A presenter that remembers which instances it was told had failed."""

    def __init__(self) -> None:
        self.failed_names: list[str] = []

    async def failed(self, snapshot: Snapshot) -> None:
        self.failed_names.append(snapshot.name)


async def test_a_zombie_at_the_repair_cap_keeps_its_session_and_the_presenter_is_told(
    sim: Simulator, client: Client
) -> None:
    """At the cap a zombie a restart does not cure is journaled FAILED without being logged out
    (logging it out would leave nobody a QR), and the presenter hears of the failure."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    capped = attrs.evolve(WATCHFUL, max_repairs=0)
    presenter = FailureRecorder()
    supervisor = Supervisor(client, journal, options=capped, presenter=presenter)
    await sim.zombie(ids[name], cured_by="repair")
    await client.instance(ids[name]).messages.send_text("5511988887777", "stuck?")
    async with anyio.create_task_group() as tg:
        tg.start_soon(supervisor.run)
        await wait_for(
            lambda: (
                name in supervisor.snapshots and supervisor.snapshots[name].state is State.FAILED
            ),
            seconds=10,
        )
        supervisor.stop()
    assert presenter.failed_names == [name]
    assert sim.counters.requests["POST /instances/{id}/session/disconnect"] == 0
    assert (await client.instance(ids[name]).session.status()).connected


async def test_a_restarted_session_is_not_logged_out_before_its_queue_is_stuck_for_stuck_after(
    sim: Simulator, client: Client
) -> None:
    """After a restart, one look at a queue that has not moved yet is no reason to log the
    session out: its head must stay stuck for ``stuck_after`` first."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    await sim.zombie(ids[name], cured_by="repair")
    await client.instance(ids[name]).messages.send_text("5511988887777", "stuck?")
    snap = await journal.get(name)
    assert snap is not None
    stalled = transition(snap, Stalled("stuck"))
    await journal.save(transition(stalled, Restarted(at=stalled.trouble_since or 0)))
    patient = attrs.evolve(WATCHFUL, probe_interval=0.05, stuck_after=60, restart_wait=0)
    report = await Supervisor(client, journal, options=patient).run(duration=1.0)
    assert report.repairs == 0
    assert sim.counters.requests["POST /instances/{id}/session/disconnect"] == 0


class SlowJournal(MemoryJournal):
    """A journal whose reads, once ``hold`` is set, wait until the test lets them go."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.reading = anyio.Event()
        self.release = anyio.Event()

    async def load_all(self) -> list[Snapshot]:
        if self.hold:
            self.reading.set()
            await self.release.wait()
        return await super().load_all()


async def test_a_stop_while_the_journal_is_read_is_not_lost(sim: Simulator, client: Client) -> None:
    """stop() called before supervision has started (the journal is still being read) makes
    run return once the read ends, instead of running forever."""
    journal = SlowJournal()
    await onboarded(sim, client, journal, 1)
    journal.hold = True
    supervisor = Supervisor(client, journal, options=WATCHFUL)
    reports: list[SupervisorReport] = []

    async def supervise() -> None:
        reports.append(await supervisor.run())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(supervise)
            await journal.reading.wait()
            supervisor.stop()
            journal.release.set()
    assert reports[0].supervised == 1


async def test_a_probe_429_does_not_pause_the_client_beyond_max_retry_after(
    sim: Simulator, client: Client, metrics: Metrics
) -> None:
    """A probe answered 429 with a Retry-After of an hour pauses the client only as long as
    the transport allows (max_retry_after), and counts one cool-down, not two."""
    journal = MemoryJournal()
    await onboarded(sim, client, journal, 1)
    sim.faults.force("GET /instances/{id}/session/status", "rate_limited", retry_after=3600)
    eager = attrs.evolve(WATCHFUL, probe_interval=0.05)
    report = await Supervisor(client, journal, options=eager).run(duration=0.5)
    assert report.probe_errors == 1
    cooldown = client.transport.cooldown
    assert 0 < cooldown.remaining <= client.transport.config.retry.max_retry_after
    assert "vzaps_rate_limit_cooldowns_total 1.0" in metrics.render().decode().splitlines()


async def test_an_instance_deleted_on_the_server_is_failed_once_not_probed_forever(
    sim: Simulator, client: Client
) -> None:
    """An instance deleted on the server (its token refused, the account's get answering 404)
    is journaled FAILED with the reason and not probed again; the others are still watched."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 2)
    await client.instances.delete(ids["shop-000"])
    report = await Supervisor(client, journal, options=WATCHFUL).run(duration=1.0)
    gone = await journal.get("shop-000")
    assert gone is not None
    assert gone.state is State.FAILED
    assert gone.failure is not None
    assert "not on the server" in gone.failure
    assert [f.name for f in report.failures] == ["shop-000"]
    assert report.probe_errors == 0  # one answer was enough: not retried as if transient
    assert report.counts == {State.FAILED: 1, State.CONNECTED: 1}


async def test_a_logged_out_instance_whose_subscription_ended_is_not_repaired(
    sim: Simulator, client: Client
) -> None:
    """Before a re-pair the server's billing status is read: a cancelled subscription ends the
    instance FAILED with the status named, and nobody is shown a QR for it."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    sim.state.registry.instances[ids[name]].billing_status = "CANCELED"
    await sim.logout(ids[name])
    qr_polls = sim.counters.requests["GET /instances/{id}/session/qr"]
    immediate = attrs.evolve(WATCHFUL, probe_interval=0.05, grace_period=0)
    report = await Supervisor(client, journal, options=immediate).run(duration=1.0)
    snap = await journal.get(name)
    assert snap is not None
    assert (snap.state, snap.repairs) == (State.FAILED, 0)
    assert snap.failure is not None
    assert "subscription is CANCELED" in snap.failure
    assert report.repairs == 0
    assert sim.counters.requests["GET /instances/{id}/session/qr"] == qr_polls


async def test_only_instances_that_connected_once_are_supervised(
    sim: Simulator, client: Client
) -> None:
    """Snapshots that never connected (onboarding's business) are neither probed nor changed."""
    journal = MemoryJournal()
    never = Snapshot(
        name="never-connected", state=State.PAIRING, instance_id="VZX", subscribed=True
    )
    await journal.save(never)
    report = await Supervisor(client, journal, options=WATCHFUL).run(duration=0.3)
    assert report.supervised == 0
    assert await journal.get("never-connected") == never
    assert sim.counters.requests["GET /instances/{id}/session/status"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("probe_interval", 0), ("grace_period", -1), ("jitter", 1.0), ("max_repairs", -1)],
)
def test_bad_options_name_the_field(field: str, value: float) -> None:
    """Invalid supervisor options raise InputError naming the option."""
    with pytest.raises(InputError, match=field):
        SupervisorOptions(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/instances/VZ0123ABC/session/status", "/instances/{id}/session/status"),
        (
            "/instances/VZ9/session/paircode/5511999999999",
            "/instances/{id}/session/paircode/{param}",
        ),
        ("/instances/create", "/instances/create"),
        ("/instances/VZ9/queue/messages/3EB0A1", "/instances/{id}/queue/messages/{param}"),
        ("/token", "/token"),
    ],
)
def test_metrics_use_route_templates(path: str, template: str) -> None:
    """Request metrics are labelled by route template, never by instance id or phone."""
    assert route_template(path) == template


async def test_metrics_count_first_connections_only() -> None:
    """Time to connected is observed on the first connection, not on a reconnect or re-pair."""
    metrics = Metrics()
    snap = Snapshot(name="shop-1", state=State.PAIRING, subscribed=True, planned_at=0.0)
    for event in (Connected(at=12.0), Disconnected("x", at=20.0), Connected(at=25.0)):
        new = transition(snap, event)
        await metrics.observe(Transition(new.name, snap.state, new, event))
        snap = new
    text = metrics.render().decode()
    assert "vzaps_time_to_connected_seconds_count 1.0" in text
    assert "vzaps_time_to_connected_seconds_sum 12.0" in text


class RefusingJournal(MemoryJournal):
    """A journal that can be read but refuses every write (a full disk, say)."""

    async def save(self, snapshot: Snapshot) -> None:
        raise JournalError("journal.db", "the disk is full")


async def test_a_journal_that_refuses_a_write_stops_the_supervisor(
    sim: Simulator, client: Client
) -> None:
    """A decision that cannot be journaled is not acted on: the run stops with JournalError."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 2)
    refusing = RefusingJournal()
    for snap in await journal.load_all():
        await MemoryJournal.save(refusing, snap)
    await sim.logout(ids["shop-000"])
    qr_polls = sim.counters.requests["GET /instances/{id}/session/qr"]
    immediate = SupervisorOptions(probe_interval=0.05, grace_period=0, onboarding=FAST)
    with pytest.raises(JournalError, match="disk is full"):
        await Supervisor(client, refusing, options=immediate).run(duration=10)
    # No re-pair began: its first step is a journaled decision.
    assert sim.counters.requests["GET /instances/{id}/session/qr"] == qr_polls
