"""The money rules of onboarding, each with a test that fails when the rule is broken.

Never create or bill an instance twice, never lose a token: through a lost or partial journal
(the account's inventory decides), several same-named instances (never one at random), a failing
journal (the run stops), a failing presenter (the onboarding goes on), and one 429 cool-down
shared by the fleet and every other caller of its client.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from _shared import FAST

from vzaps_async import Client, JournalError
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    Onboarding,
    QRShown,
    Snapshot,
    SQLiteJournal,
    State,
    Transition,
)
from vzaps_async.testing import Simulator

OPTIONS = FleetOptions(onboarding=FAST)


def specs(count: int, prefix: str = "shop") -> list[InstanceSpec]:
    return [InstanceSpec(f"{prefix}-{i:03}") for i in range(count)]


def assert_each_created_and_billed_once(sim: Simulator, names: list[str]) -> None:
    assert {n: sim.counters.instances_created[n] for n in names} == dict.fromkeys(names, 1)
    assert all(n == 1 for n in sim.counters.subscriptions.values()), sim.counters.subscriptions


async def test_a_lost_journal_adopts_every_instance_instead_of_creating_it_again(
    sim: Simulator, client: Client
) -> None:
    """A rerun on an empty journal finds each name on the server and adopts it: 0 new creates."""
    fleet_specs = specs(12)
    first = await Fleet(client, MemoryJournal(), fleet_specs, options=OPTIONS).run()
    assert first.all_connected, first.failures
    lost = MemoryJournal()
    report = await Fleet(client, lost, fleet_specs, options=OPTIONS).run()
    assert report.all_connected, report.failures
    assert_each_created_and_billed_once(sim, [s.name for s in fleet_specs])
    adopted = await lost.load_all()
    assert all(s.token is not None and s.instance_id for s in adopted)


async def test_an_adopted_unpaid_instance_is_subscribed_once_and_a_paid_one_not_at_all(
    sim: Simulator, client: Client
) -> None:
    """Adoption reads the listed billing status: unpaid is billed once, paid is never billed."""
    unpaid = await client.instances.create("shop-unpaid")
    paid = await client.instances.create("shop-paid")
    await client.instances.subscribe(paid.id)
    report = await Fleet(
        client,
        MemoryJournal(),
        [InstanceSpec("shop-unpaid"), InstanceSpec("shop-paid")],
        options=OPTIONS,
    ).run()
    assert report.all_connected, report.failures
    assert sim.counters.instances_created["shop-unpaid"] == 1
    assert sim.counters.instances_created["shop-paid"] == 1
    assert sim.counters.subscriptions[unpaid.id] == 1
    assert sim.counters.subscriptions[paid.id] == 1
    assert sim.counters.requests["POST /instances/{id}/subscribe"] == 2


async def test_several_same_named_instances_fail_the_spec_and_create_nothing(
    sim: Simulator, client: Client
) -> None:
    """Two instances already named like a spec: that spec fails with both ids, none is adopted."""
    one = await client.instances.create("shop-twice")
    two = await client.instances.create("shop-twice")
    journal = MemoryJournal()
    report = await Fleet(
        client, journal, [InstanceSpec("shop-twice"), InstanceSpec("shop-alone")], options=OPTIONS
    ).run()
    assert report.counts == {State.FAILED: 1, State.CONNECTED: 1}
    (failure,) = report.failures
    assert failure.name == "shop-twice"
    assert "2 instances named 'shop-twice'" in failure.reason
    assert one.id in failure.reason
    assert two.id in failure.reason
    assert sim.counters.instances_created["shop-twice"] == 2
    snap = await journal.get("shop-twice")
    assert snap is not None
    assert snap.instance_id is None


async def test_several_matches_for_a_pending_create_intent_are_never_adopted_at_random(
    sim: Simulator, client: Client
) -> None:
    """Without an inventory, a pending create intent with two matches by name fails, no create."""
    await client.instances.create("shop-dup")
    await client.instances.create("shop-dup")
    pending = Snapshot(name="shop-dup", intent="create", intent_at=1.0, create_attempts=1)
    journal = MemoryJournal()
    await journal.save(pending)
    final = await Onboarding(client, journal, "shop-dup", options=FAST).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "2 instances named 'shop-dup'" in final.failure
    assert sim.counters.instances_created["shop-dup"] == 2


async def test_the_inventory_is_one_paged_list_and_can_be_switched_off(
    sim: Simulator, client: Client
) -> None:
    """With reconcile_inventory off no list is read; on, one list is read per run."""
    report = await Fleet(
        client,
        MemoryJournal(),
        specs(3),
        options=FleetOptions(onboarding=FAST, reconcile_inventory=False),
    ).run()
    assert report.all_connected
    assert sim.counters.requests["POST /instances/list"] == 0
    await Fleet(client, MemoryJournal(), specs(3, "other"), options=OPTIONS).run()
    assert sim.counters.requests["POST /instances/list"] == 1


async def test_a_journal_that_lost_its_wal_is_finished_without_creating_again(
    sim: Simulator, client: Client, tmp_path: Path
) -> None:
    """The main file alone (the -wal and -shm lost after a kill) resumes with 0 second creates."""
    path = tmp_path / "fleet.db"
    fleet_specs = specs(30)
    async with SQLiteJournal(path) as journal:
        fleet = Fleet(client, journal, fleet_specs, options=OPTIONS)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:

                async def stop_after_some(events: AsyncIterator[Transition]) -> None:
                    created = 0
                    async for item in events:
                        created += item.state is State.CREATED and item.previous is State.PLANNED
                        if created >= 10:
                            # What a SIGKILL leaves if the -wal then goes: the last checkpoint.
                            shutil.copyfile(path, tmp_path / "without-wal.db")
                            scope.cancel()

                tg.start_soon(stop_after_some, fleet.events())
                await fleet.run()
    async with SQLiteJournal(tmp_path / "without-wal.db") as journal:
        assert len(await journal.load_all()) < 30
        report = await Fleet(client, journal, fleet_specs, options=OPTIONS).run()
    assert report.all_connected, report.failures
    assert_each_created_and_billed_once(sim, [s.name for s in fleet_specs])


class FailingJournal(MemoryJournal):
    """A journal whose disk fills up after a number of saves."""

    def __init__(self, saves: int) -> None:
        super().__init__()
        self.left = saves

    async def save(self, snapshot: Snapshot) -> None:
        if self.left <= 0:
            raise JournalError("test.db", "the disk is full")
        self.left -= 1
        await super().save(snapshot)


async def test_a_journal_failure_stops_the_fleet_with_the_journals_error(
    sim: Simulator, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A save that fails mid-run stops every onboarding and raises that JournalError itself."""
    fleet = Fleet(client, FailingJournal(saves=15), specs(10), options=OPTIONS)
    with pytest.raises(JournalError, match="the disk is full"):
        await fleet.run()
    # Stopped, not failed one by one: nothing went on past the first failed save.
    assert sim.counters.requests["GET /instances/{id}/session/qr"] <= 10
    assert "unexpected error" not in caplog.text


class StopsAtPairing(MemoryJournal):
    """A journal whose process dies (the save raises) when a pairing is about to be saved."""

    async def save(self, snapshot: Snapshot) -> None:
        if snapshot.state is State.PAIRING:
            raise JournalError("test.db", "the process died")
        await super().save(snapshot)


async def test_a_crash_between_subscribe_and_pairing_is_settled_without_billing_again(
    sim: Simulator, client: Client
) -> None:
    """A run stopped before the pairing's save (which carries the subscription) reads billing."""
    journal = StopsAtPairing()
    with pytest.raises(JournalError, match="the process died"):
        await Onboarding(client, journal, "shop-000", options=FAST).run()
    left = await journal.get("shop-000")
    assert left is not None
    assert left.intent == "subscribe"
    assert not left.subscribed
    rerun = MemoryJournal()
    await rerun.save(left)
    final = await Onboarding(client, rerun, "shop-000", options=FAST).run()
    assert final.state is State.CONNECTED
    assert_each_created_and_billed_once(sim, ["shop-000"])
    assert sim.counters.requests["POST /instances/{id}/subscribe"] == 1
    assert sim.counters.requests["POST /instances/get"] == 1  # billing_status read once


class ExplodingPresenter:
    """A presenter whose every call fails."""

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        raise RuntimeError("the screen caught fire")

    async def pair_code_shown(self, snapshot: Snapshot, event: object) -> None:
        raise RuntimeError("the screen caught fire")

    async def connected(self, snapshot: Snapshot) -> None:
        raise RuntimeError("the screen caught fire")

    async def failed(self, snapshot: Snapshot) -> None:
        raise RuntimeError("the screen caught fire")


async def test_a_failing_presenter_never_stops_an_onboarding(
    sim: Simulator, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A presenter raising on every QR and on connect is logged; the instance still connects."""
    onboarding = Onboarding(
        client, MemoryJournal(), "shop-shown", options=FAST, presenter=ExplodingPresenter()
    )
    final = await onboarding.run()
    assert final.state is State.CONNECTED
    assert "presenter failed for shop-shown" in caplog.text


async def test_a_pause_of_the_client_holds_back_the_fleet(sim: Simulator, client: Client) -> None:
    """A 429 cool-down started by any caller of the client stops the fleet's requests too."""
    client.transport.cooldown.pause(30)
    fleet = Fleet(client, MemoryJournal(), specs(3), options=OPTIONS)
    with anyio.move_on_after(0.5):
        await fleet.run()
    assert sim.counters.requests["PUT /instances/create"] == 0
    assert sim.counters.requests["POST /instances/list"] == 0


async def test_a_pause_of_the_fleet_holds_back_the_clients_other_callers(
    sim: Simulator, client: Client
) -> None:
    """The fleet's own 429 pause is the client's: a plain call through the client waits too."""
    fleet = Fleet(client, MemoryJournal(), specs(1), options=OPTIONS)
    fleet.gates.cooldown.pause(30)
    with anyio.move_on_after(0.5):
        await client.instances.list()
    assert sim.counters.requests["POST /instances/list"] == 0


async def test_a_debug_log_of_a_whole_fleet_shows_no_secret(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every logger at DEBUG (the journal, aiohttp, the simulator's) over a fleet run: no secret."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    async with (
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
        SQLiteJournal(tmp_path / "fleet.db") as journal,
    ):
        report = await Fleet(client, journal, specs(5), options=OPTIONS).run()
        snapshots = await journal.load_all()
        jwt = client.transport._tokens.current()
    assert report.all_connected, report.failures
    secrets = [sim.client_secret, *(s.token.reveal() for s in snapshots if s.token)]
    if jwt is not None:
        secrets.append(jwt)
    assert len(secrets) >= 6
    assert len(caplog.records) >= 20
    text = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


class CountingJournal(MemoryJournal):
    """Counts the reads a fleet makes."""

    def __init__(self) -> None:
        super().__init__()
        self.gets = 0
        self.loads = 0

    async def get(self, name: str) -> Snapshot | None:
        self.gets += 1
        return await super().get(name)

    async def load_all(self) -> list[Snapshot]:
        self.loads += 1
        return await super().load_all()


async def test_a_fleet_reads_its_journal_once(sim: Simulator, client: Client) -> None:
    """A fleet reads every record once at start and looks up no instance one by one."""
    journal = CountingJournal()
    await journal.save(Snapshot(name="shop-000", intent="create", intent_at=1.0))
    report = await Fleet(client, journal, specs(6), options=OPTIONS).run()
    assert report.all_connected, report.failures
    assert (journal.loads, journal.gets) == (1, 0)


async def test_a_rerun_with_nothing_left_to_create_reads_no_inventory(
    sim: Simulator, client: Client
) -> None:
    """When every spec is past create or ended, the rerun does not page through the account."""
    journal = MemoryJournal()
    await journal.save(Snapshot(name="shop-000", state=State.FAILED, failure="two named"))
    await Fleet(client, journal, specs(3, "done"), options=OPTIONS).run()
    lists = sim.counters.requests["POST /instances/list"]
    report = await Fleet(
        client, journal, [InstanceSpec("shop-000"), *specs(3, "done")], options=OPTIONS
    ).run()
    assert report.counts == {State.FAILED: 1, State.CONNECTED: 3}
    assert sim.counters.requests["POST /instances/list"] == lists
