"""The supervisor's caps and backoff hold across its runs; refusals and unscanned re-pairs are
left to a person instead of being retried forever or ending FAILED for good."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import attrs
import pytest
from _shared import FAST, scanning, wait_for

from vzaps_async import ClientConfig, RetryPolicy
from vzaps_async._client import Client
from vzaps_async._transport import RequestInfo
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    PairingAbandoned,
    PairingStarted,
    RestartIntended,
    State,
    Supervisor,
    SupervisorOptions,
    SupervisorReport,
    Transition,
)
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

# A re-pair nobody scans gives up after 0.3 s.
UNSCANNED = attrs.evolve(FAST, deadline=0.3)
EAGER = SupervisorOptions(
    probe_interval=0.05,
    trouble_interval=0.05,
    grace_period=0,
    stuck_after=0.2,
    restart_wait=0.2,
    onboarding=UNSCANNED,
)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """Phones that act only on command: a re-pair is scanned only when a test says so."""
    config = SimulatorConfig(first_qr_seconds=2.0, qr_seconds=2.0)
    async with Simulator(config, phones=PhonePolicy.manual()) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as c:
        yield c


async def onboarded(
    sim: Simulator, client: Client, journal: MemoryJournal, count: int
) -> dict[str, str]:
    """Onboard ``count`` instances, scanning their QR codes; return their ids by name."""
    specs = [InstanceSpec(f"shop-{i:03}") for i in range(count)]
    async with scanning(sim):
        report = await Fleet(client, journal, specs, options=FleetOptions(onboarding=FAST)).run()
    assert report.all_connected
    return {s.name: s.instance_id for s in await journal.load_all() if s.instance_id}


class Recorder:
    """An observer keeping every transition."""

    def __init__(self) -> None:
        self.seen: list[Transition] = []

    async def __call__(self, item: Transition) -> None:
        self.seen.append(item)

    def at(self, kind: type) -> list[float]:
        return [t.event.at for t in self.seen if isinstance(t.event, kind)]


async def run_until_left_to_a_person(supervisor: Supervisor, name: str) -> SupervisorReport:
    """Run ``supervisor`` until ``name`` needs a person, and half a second more (time for
    anything more it would wrongly do), then stop it; return its report."""
    reports: list[SupervisorReport] = []

    async def supervise() -> None:
        reports.append(await supervisor.run())

    async with anyio.create_task_group() as tg:
        tg.start_soon(supervise)
        await wait_for(
            lambda: (
                name in supervisor.snapshots and supervisor.snapshots[name].attention is not None
            )
        )
        await anyio.sleep(0.5)
        supervisor.stop()
    return reports[0]


async def test_an_unscanned_repair_goes_back_to_disconnected_and_backs_off_up_to_the_cap(
    sim: Simulator, client: Client
) -> None:
    """A re-pair nobody scans ends DISCONNECTED (never FAILED); the next waits repair_backoff
    after it; at max_repairs the instance is left to a person and not re-paired again."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    await sim.logout(ids[name])
    seen = Recorder()
    options = attrs.evolve(EAGER, max_repairs=2, repair_backoff=0.5)
    supervisor = Supervisor(client, journal, options=options, observer=seen)
    report = await run_until_left_to_a_person(supervisor, name)
    snap = await journal.get(name)
    assert snap is not None
    assert (snap.state, snap.repairs, snap.repair_streak) == (State.DISCONNECTED, 2, 2)
    assert snap.failure is None
    assert snap.incident is not None
    assert "re-pair not completed" in snap.incident
    assert snap.attention is not None
    assert "max_repairs=2" in snap.attention
    assert [f.name for f in report.attention] == [name]
    (first_gave_up, _) = seen.at(PairingAbandoned)
    (_, second) = seen.at(PairingStarted)
    assert second - first_gave_up >= 0.5


async def test_the_repair_cap_and_backoff_hold_across_supervisor_runs(
    sim: Simulator, client: Client
) -> None:
    """A supervisor stopped after one unscanned re-pair and started again waits out the
    journaled backoff, re-pairs once more, then stops at the cap; a third run re-pairs nothing."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    await sim.logout(ids[name])
    options = attrs.evolve(EAGER, max_repairs=2, repair_backoff=1.0)
    first = Supervisor(client, journal, options=options)
    async with anyio.create_task_group() as tg:
        tg.start_soon(first.run)
        await wait_for(
            lambda: (
                name in first.snapshots
                and first.snapshots[name].repair_streak == 1
                and first.snapshots[name].state is State.DISCONNECTED
            )
        )
        first.stop()
    after_first = await journal.get(name)
    assert after_first is not None
    assert after_first.repaired_at is not None
    seen = Recorder()
    second = await run_until_left_to_a_person(
        Supervisor(client, journal, options=options, observer=seen), name
    )
    assert second.repairs == 1
    (started,) = seen.at(PairingStarted)
    assert started - after_first.repaired_at >= 1.0
    third = await Supervisor(client, journal, options=options).run(duration=0.5)
    assert third.repairs == 0
    snap = await journal.get(name)
    assert snap is not None
    assert (snap.repairs, snap.state) == (2, State.DISCONNECTED)
    assert [f.name for f in third.attention] == [name]


async def test_a_later_run_with_a_higher_cap_re_pairs_an_instance_left_to_a_person(
    sim: Simulator, client: Client
) -> None:
    """The way back from the cap: a run with a higher max_repairs re-pairs the instance, and
    once its phone scans it is CONNECTED with the streak and the attention cleared."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    await sim.logout(ids[name])
    capped = attrs.evolve(EAGER, max_repairs=1, repair_backoff=0.0)
    await run_until_left_to_a_person(Supervisor(client, journal, options=capped), name)
    held = await journal.get(name)
    assert held is not None
    assert held.attention is not None
    raised = attrs.evolve(capped, max_repairs=2, onboarding=FAST)
    resumed = Supervisor(client, journal, options=raised)
    async with anyio.create_task_group() as tg:

        async def supervise() -> None:
            reports.append(await resumed.run(duration=3.0))

        reports: list[SupervisorReport] = []
        tg.start_soon(supervise)
        await wait_for(lambda: resumed.snapshots.get(name, held).state is State.PAIRING)
        async with scanning(sim):
            await wait_for(lambda: resumed.snapshots[name].state is State.CONNECTED)
        resumed.stop()
    (report,) = reports
    snap = await journal.get(name)
    assert snap is not None
    assert (snap.state, snap.repairs, snap.repair_streak) == (State.CONNECTED, 2, 0)
    assert snap.attention is None
    assert report.all_connected


async def test_a_failing_restart_is_retried_with_backoff_up_to_its_cap(
    sim: Simulator, client: Client
) -> None:
    """A restart answered 500 is sent again only after restart_backoff, and no more than
    max_restarts times (not at every probe); each is journaled before it is sent."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 1)
    (name,) = ids
    await sim.zombie(ids[name], cured_by="restart")
    await client.instance(ids[name]).messages.send_text("5511988887777", "stuck?")
    sim.faults.force("POST /instances/{id}/restart", "error_5xx", times=1000, error_status=500)
    seen = Recorder()
    options = attrs.evolve(EAGER, max_restarts=2, restart_backoff=0.4, max_repairs=0)
    # One attempt per restart: the time between two is the supervisor's backoff alone.
    once = ClientConfig(retry=RetryPolicy(max_attempts=1))
    async with Client(
        sim.client_token, sim.client_secret, base_url=sim.base_url, config=once
    ) as restarting:
        supervisor = Supervisor(restarting, journal, options=options, observer=seen)
        await run_until_left_to_a_person(supervisor, name)
    snap = await journal.get(name)
    assert snap is not None
    assert (snap.state, snap.restart_attempts, snap.restarts) == (State.STALLED, 2, 0)
    assert sim.counters.requests["POST /instances/{id}/restart"] == 2
    first, second = seen.at(RestartIntended)
    assert second - first >= 0.4
    # Restarts exhausted, re-pairs capped at 0: left to a person, its session not logged out.
    assert snap.attention is not None
    assert sim.counters.requests["POST /instances/{id}/session/disconnect"] == 0


async def test_a_refused_instance_is_left_to_a_person_and_the_others_are_still_watched(
    sim: Simulator, client: Client
) -> None:
    """A probe answered 403 for an instance the account still has marks it as needing a
    person, with the reason, and it is not probed again; the other instance is still watched."""
    journal = MemoryJournal()
    ids = await onboarded(sim, client, journal, 2)
    refused, fine = sorted(ids)
    other = await journal.get(fine)
    snap = await journal.get(refused)
    assert snap is not None
    assert other is not None
    # Another instance's token: the server answers 403 for this one.
    await journal.save(attrs.evolve(snap, token=other.token))
    paths: list[str] = []

    def record(info: RequestInfo) -> None:
        paths.append(info.path)

    async with Client(
        sim.client_token, sim.client_secret, base_url=sim.base_url, on_request=record
    ) as watching:
        report = await Supervisor(watching, journal, options=EAGER).run(duration=1.0)
    probes = [p for p in paths if p.endswith("/session/status")]
    assert probes.count(f"/instances/{ids[refused]}/session/status") == 1
    assert probes.count(f"/instances/{ids[fine]}/session/status") > 5
    marked = await journal.get(refused)
    assert marked is not None
    assert marked.state is State.DISCONNECTED
    assert marked.attention is not None
    assert "refused the probe (PermissionDeniedError 403)" in marked.attention
    assert [(f.name, f.reason) for f in report.attention] == [(refused, marked.attention)]
    assert report.counts == {State.CONNECTED: 1, State.DISCONNECTED: 1}
    assert report.failures == ()
