"""Fleets and single onboardings against the in-process simulator."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from _shared import FAST

from vzaps_async._client import Client
from vzaps_async.errors import InputError
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    Onboarding,
    PairCodeShown,
    QRShown,
    Snapshot,
    SQLiteJournal,
    State,
    Transition,
)
from vzaps_async.testing import FaultRule, PhonePolicy, Simulator, SimulatorConfig

QUICK_QR = SimulatorConfig(first_qr_seconds=0.3, qr_seconds=0.3)


class RecordingPresenter:
    """Remembers every QR, pair code, connection and failure it was shown."""

    def __init__(self) -> None:
        self.qrs: dict[str, list[str]] = defaultdict(list)
        self.codes: list[PairCodeShown] = []
        self.linked: list[str] = []
        self.failures: list[tuple[str, str | None]] = []

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        self.qrs[snapshot.name].append(event.qr_code)

    async def pair_code_shown(self, snapshot: Snapshot, event: PairCodeShown) -> None:
        self.codes.append(event)

    async def connected(self, snapshot: Snapshot) -> None:
        self.linked.append(snapshot.name)

    async def failed(self, snapshot: Snapshot) -> None:
        self.failures.append((snapshot.name, snapshot.failure))


def specs(count: int, prefix: str = "fleet") -> list[InstanceSpec]:
    return [InstanceSpec(f"{prefix}-{i:04}") for i in range(count)]


def assert_no_duplicates(sim: Simulator) -> None:
    assert all(n == 1 for n in sim.counters.instances_created.values())
    assert all(n == 1 for n in sim.counters.subscriptions.values())


async def test_two_hundred_instances_onboard_concurrently(sim: Simulator, client: Client) -> None:
    """200 instances all end CONNECTED, each created and subscribed exactly once."""
    fleet = Fleet(client, MemoryJournal(), specs(200), options=FleetOptions(onboarding=FAST))
    report = await fleet.run()
    assert report.all_connected, report.failures
    assert report.counts == {State.CONNECTED: 200}
    assert len(report.time_to_connected) == 200
    assert report.p50 is not None
    assert report.p95 is not None
    assert report.p50 <= report.p95
    assert sum(sim.counters.instances_created.values()) == 200
    assert_no_duplicates(sim)


async def test_a_specs_create_options_reach_the_server_and_others_send_none(
    sim: Simulator, client: Client
) -> None:
    """Create options given on one spec are sent for that instance only; a spec without them
    has an empty read-only mapping, so no spec can change another's."""
    labelled = InstanceSpec("opts-labelled", create_options={"labels": {"team": "sales"}})
    plain, other = InstanceSpec("opts-plain"), InstanceSpec("opts-other")
    with pytest.raises(TypeError):
        plain.create_options["labels"] = {}  # type: ignore[index]
    fleet = Fleet(
        client, MemoryJournal(), [labelled, plain, other], options=FleetOptions(onboarding=FAST)
    )
    report = await fleet.run()
    assert report.all_connected, report.failures
    labels = {info.name: info.labels for info in (await client.instances.list()).content}
    assert labels["opts-labelled"] == {"team": "sales"}
    assert not labels["opts-plain"]
    assert not labels["opts-other"]


async def test_fewer_workers_than_instances_still_onboard_every_one(
    sim: Simulator, client: Client
) -> None:
    """With max_in_flight below the fleet size, the workers take turns until all are connected."""
    in_flight = 0
    most = 0

    fleet = Fleet(
        client,
        MemoryJournal(),
        specs(12),
        options=FleetOptions(max_in_flight=3, onboarding=FAST),
    )

    stream = fleet.events()

    async def watch() -> None:
        nonlocal in_flight, most
        async for item in stream:
            if item.previous is State.PLANNED and item.state is State.PLANNED:
                in_flight += 1  # CreateIntended: an onboarding has started
                most = max(most, in_flight)
            elif item.state is State.CONNECTED:
                in_flight -= 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        report = await fleet.run()
    assert report.counts == {State.CONNECTED: 12}
    assert most <= 3
    assert_no_duplicates(sim)


async def test_counts_place_running_instances_and_a_late_stream_hears_them() -> None:
    """Mid-run, `counts` shows running instances in their current state, and an event stream
    opened then still hears those instances connect."""
    async with (
        Simulator(phones=PhonePolicy.scan_after(0.1, on_qr=2), config=QUICK_QR) as sim,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
    ):
        all_pairing = anyio.Event()
        presenter = RecordingPresenter()

        async def qr_shown(snapshot: Snapshot, event: QRShown) -> None:
            presenter.qrs[snapshot.name].append(event.qr_code)
            if len(presenter.qrs) == 6:
                all_pairing.set()

        presenter.qr_shown = qr_shown  # type: ignore[method-assign]
        fleet = Fleet(
            client,
            MemoryJournal(),
            specs(6),
            options=FleetOptions(onboarding=FAST),
            presenter=presenter,
        )
        mid_run: dict[State, int] = {}
        connected: list[str] = []

        async def open_stream_mid_run() -> None:
            with anyio.fail_after(10):
                await all_pairing.wait()
            mid_run.update(fleet.counts)
            async for item in fleet.events():
                if item.state is State.CONNECTED:
                    connected.append(item.name)

        async with anyio.create_task_group() as tg:
            tg.start_soon(open_stream_mid_run)
            report = await fleet.run()
    assert {state: n for state, n in mid_run.items() if n} == {State.PAIRING: 6}
    assert sorted(connected) == [spec.name for spec in fleet.specs]
    assert report.counts == {State.CONNECTED: 6}
    assert fleet.counts.get(State.CONNECTED) == 6


@pytest.mark.parametrize(
    "field", ["max_in_flight", "create_concurrency", "subscribe_concurrency", "poll_concurrency"]
)
def test_fleet_limits_below_one_are_refused_with_the_field_name(field: str) -> None:
    """A limit of 0 would start no work; FleetOptions refuses it and names the field."""
    with pytest.raises(InputError, match=field):
        FleetOptions(**{field: 0})


async def test_qr_rotation_presenter_sees_three_codes() -> None:
    """When phones scan only the third QR, the presenter is shown three distinct QR codes."""
    config = SimulatorConfig(first_qr_seconds=0.25, qr_seconds=0.25)
    async with (
        Simulator(phones=PhonePolicy.scan_after(0.1, on_qr=3), config=config) as sim,
        Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
    ):
        presenter = RecordingPresenter()
        fleet = Fleet(
            client,
            MemoryJournal(),
            specs(5),
            options=FleetOptions(onboarding=FAST),
            presenter=presenter,
        )
        report = await fleet.run()
    assert report.all_connected, report.failures
    for name in (s.name for s in fleet.specs):
        shown = presenter.qrs[name]
        assert len(shown) == 3
        assert len(set(shown)) == 3
        assert all(qr.startswith("data:image/png;base64,") for qr in shown)
    assert sorted(presenter.linked) == [s.name for s in fleet.specs]


async def test_pair_code_flow(sim: Simulator, client: Client) -> None:
    """The pair-code method shows a code with its phone and ends connected."""
    presenter = RecordingPresenter()
    spec = InstanceSpec("paired-01", phone="5511999990001", method="pair_code")
    fleet = Fleet(
        client, MemoryJournal(), [spec], options=FleetOptions(onboarding=FAST), presenter=presenter
    )
    report = await fleet.run()
    assert report.all_connected, report.failures
    assert [c.phone for c in presenter.codes] == ["5511999990001"]
    assert len(presenter.codes[0].code) == 9  # XXXX-XXXX
    assert "GET /instances/{id}/session/qr" not in sim.counters.requests


class RoutingClient:
    """Sends the calls of instances whose name starts with ``declined`` to a second client."""

    def __init__(self, main: Client, declined: Client) -> None:
        self._main = main
        self._declined = declined
        self._owner: dict[str, Client] = {}
        self.instances = self
        self.transport = main.transport

    def _by_name(self, name: str) -> Client:
        return self._declined if name.startswith("declined") else self._main

    async def create(self, name: str, **options: Any) -> Any:
        info = await self._by_name(name).instances.create(name, **options)
        self._owner[info.id] = self._by_name(name)
        return info

    async def find_by_name(self, name: str) -> Any:
        return await self._by_name(name).instances.find_by_name(name)

    async def iter(self, *, page_size: int = 100) -> AsyncIterator[Any]:
        for client in (self._main, self._declined):
            async for info in client.instances.iter(page_size=page_size):
                yield info

    async def get(self, instance_id: str) -> Any:
        return await self._owner[instance_id].instances.get(instance_id)

    async def subscribe(self, instance_id: str) -> Any:
        return await self._owner[instance_id].instances.subscribe(instance_id)

    async def cancel(self, instance_id: str) -> Any:
        return await self._owner[instance_id].instances.cancel(instance_id)

    async def resume(self, instance_id: str) -> None:
        await self._owner[instance_id].instances.resume(instance_id)

    def instance(self, instance_id: str, token: Any = None) -> Any:
        return self._owner[instance_id].instance(instance_id, token)


async def test_billing_declined_fails_with_reason_and_fleet_goes_on(
    sim: Simulator, client: Client
) -> None:
    """A declined card ends that instance FAILED with a billing reason; the others connect."""
    account = sim.add_account(card="declined")
    async with Client(account.client_token, account.client_secret, base_url=sim.base_url) as bad:
        routed = RoutingClient(client, bad)
        fleet = Fleet(
            routed,
            MemoryJournal(),
            [*specs(10), InstanceSpec("declined-01")],
            options=FleetOptions(onboarding=FAST),
        )
        report = await fleet.run()
    assert report.counts == {State.CONNECTED: 10, State.FAILED: 1}
    [failure] = report.failures
    assert failure.name == "declined-01"
    assert "billing declined" in failure.reason


async def test_cancel_then_resume_returns_to_connected(sim: Simulator, client: Client) -> None:
    """A connected instance can be cancelled (scheduled) and resumed back to CONNECTED."""
    journal = MemoryJournal()
    onboarding = Onboarding(client, journal, "cancel-me", options=FAST)
    assert (await onboarding.run()).state is State.CONNECTED
    cancelled = await onboarding.cancel()
    assert cancelled.state is State.CANCELLED
    info = await client.instances.get(cancelled.instance_id or "")
    assert info.cancel_at is not None
    resumed = await onboarding.resume()
    assert resumed.state is State.CONNECTED
    assert (await client.instances.get(resumed.instance_id or "")).cancel_at is None
    stored = await journal.get("cancel-me")
    assert stored is not None
    assert stored.state is State.CONNECTED


async def test_commit_then_fail_create_and_subscribe_are_reconciled(
    sim: Simulator, client: Client
) -> None:
    """A create and a subscribe whose answers are lost are adopted, never repeated."""
    sim.faults.force("PUT /instances/create", "commit_then_fail")
    sim.faults.force("POST /instances/{id}/subscribe", "commit_then_fail")
    onboarding = Onboarding(client, MemoryJournal(), "lost-answers", options=FAST)
    final = await onboarding.run()
    assert final.state is State.CONNECTED
    assert sim.counters.faults["commit_then_fail"] == 2
    assert sim.counters.instances_created["lost-answers"] == 1
    assert final.instance_id is not None
    assert sim.counters.subscriptions[final.instance_id] == 1
    assert final.create_attempts == 1


async def test_interrupted_run_resumes_from_sqlite_journal(
    sim: Simulator, client: Client, tmp_path: Path
) -> None:
    """A fleet cancelled midway resumes from its journal: all connect, nothing is duplicated."""
    path = tmp_path / "fleet.db"
    fleet_specs = specs(40)
    async with SQLiteJournal(path) as journal:
        fleet = Fleet(client, journal, fleet_specs, options=FleetOptions(onboarding=FAST))
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:

                async def stop_after_some(events: AsyncIterator[Transition]) -> None:
                    seen = 0
                    async for item in events:
                        seen += item.state is State.SUBSCRIBED
                        if seen >= 10:
                            scope.cancel()

                tg.start_soon(stop_after_some, fleet.events())
                await fleet.run()
        assert scope.cancelled_caught
    async with SQLiteJournal(path) as journal:
        before = {s.name: s.state for s in await journal.load_all()}
        assert len(before) < 40 or any(s is not State.CONNECTED for s in before.values())
        report = await Fleet(
            client, journal, fleet_specs, options=FleetOptions(onboarding=FAST)
        ).run()
    assert report.all_connected, report.failures
    assert sum(sim.counters.instances_created.values()) == 40
    assert_no_duplicates(sim)


async def test_the_same_fleet_run_again_after_a_cancel_counts_each_instance_once(
    sim: Simulator, client: Client
) -> None:
    """Running a cancelled fleet again finishes it, and `counts` holds each instance once."""
    fleet = Fleet(client, MemoryJournal(), specs(20), options=FleetOptions(onboarding=FAST))
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:

            async def stop_when_pairing(events: AsyncIterator[Transition]) -> None:
                async for item in events:
                    if item.state is State.PAIRING:
                        scope.cancel()

            tg.start_soon(stop_when_pairing, fleet.events())
            await fleet.run()
    assert scope.cancelled_caught
    report = await fleet.run()
    assert report.counts == {State.CONNECTED: 20}
    assert {state: n for state, n in fleet.counts.items() if n} == {State.CONNECTED: 20}
    assert_no_duplicates(sim)


@pytest.mark.slow
async def test_fleet_with_faults_ends_all_connected_without_duplicates() -> None:
    """With 5xx, 429, drops and commit-then-fail injected, 300 instances all connect once."""
    # Retry-After 0 keeps the run short: at a 10% 429 rate a 1 s fleet-wide pause per 429 would
    # cap the fleet near ten requests a second. The pause itself is covered with a fake client.
    faults = [
        FaultRule(
            route="*",
            error_5xx=0.15,
            rate_limited=0.10,
            drop=0.05,
            commit_then_fail=0.05,
            retry_after=0,
        )
    ]
    async with Simulator(phones=PhonePolicy.scan_after(0.05), config=QUICK_QR) as sim:
        sim.faults.set_rules(faults, seed=7)
        async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client:
            report = await Fleet(
                client, MemoryJournal(), specs(300), options=FleetOptions(onboarding=FAST)
            ).run()
        assert report.all_connected, report.failures[:5]
        assert sum(sim.counters.instances_created.values()) == 300
        assert_no_duplicates(sim)
        assert sim.counters.faults["commit_then_fail"] > 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "shop-002", "phone": "12"}, "phone"),
        ({"name": "shop-002", "phone": "55 11 9999-0001x"}, "phone"),
        ({"name": "ab"}, "name"),
        ({"name": "shop-002", "create_options": {"webhook": "ftp://x"}}, "webhook"),
        ({"name": "shop-002", "create_options": {"colour": "red"}}, "create_options['colour']"),
        ({"name": "shop-002", "create_options": {"events": "Receipt"}}, "events[0]"),
    ],
)
def test_a_spec_is_checked_as_the_client_would_check_its_calls(
    kwargs: dict[str, Any], field: str
) -> None:
    """InstanceSpec refuses what create or pairing would refuse later, naming the field."""
    with pytest.raises(InputError) as caught:
        InstanceSpec(**kwargs)
    assert caught.value.field == field


def test_a_specs_phone_is_normalised_and_its_webhook_secret_not_shown() -> None:
    """A phone with '+' and separators becomes digits; the repr hides the webhook URL's path."""
    spec = InstanceSpec(
        "shop-003",
        phone="+55 (11) 99999-0001",
        create_options={"webhook": "https://hooks.example/webhook/s3cr3t-value"},
    )
    assert spec.phone == "5511999990001"
    assert "s3cr3t" not in repr(spec)
    assert "https://hooks.example/…" in repr(spec)
