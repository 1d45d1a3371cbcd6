"""The driver's money rules and pacing, against a scripted fake client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import attrs
import pytest

from vzaps_async._limits import CoolDown
from vzaps_async._secret import Secret
from vzaps_async.errors import (
    AuthenticationError,
    ConflictError,
    ConnectError,
    InputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestNotSent,
)
from vzaps_async.models.billing import Subscription
from vzaps_async.models.common import StatusResult
from vzaps_async.models.instances import InstanceInfo
from vzaps_async.models.session import PairCode, QRCode, SessionStatus
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    NullPresenter,
    Onboarding,
    OnboardingOptions,
    Snapshot,
    State,
)

OPTIONS = OnboardingOptions(poll_interval=0.001, backoff_base=0.001, backoff_max=0.01, deadline=10)


class FakeSession:
    def __init__(self) -> None:
        self.polls = 0

    async def qr(self) -> QRCode:
        self.polls += 1
        if self.polls >= 2:
            return QRCode(status="connected", phone="5511")
        return QRCode(qr_code=f"data:image/png;base64,QR{self.polls}")

    async def pair_code(self, phone: str) -> PairCode:
        return PairCode("ABCD-EFGH")

    async def status(self) -> SessionStatus:
        return SessionStatus(connected=True, phone="5511")


class FakeHandle:
    def __init__(self) -> None:
        self.session = FakeSession()


class FakeTransport:
    """A cool-down of its own, and anyio's timeout for a call's deadline."""

    def __init__(self) -> None:
        self.cooldown = CoolDown()

    def deadline(self, seconds: float) -> Any:
        return anyio.fail_after(seconds)


class FakeClient:
    """Scripted instances API: each method pops the next scripted outcome (or succeeds)."""

    def __init__(self) -> None:
        self.instances = self
        self.transport = FakeTransport()
        self.script: dict[str, list[BaseException | Any]] = {}
        self.calls: list[tuple[str, float]] = []
        self.billing_status = "TRIALING"
        self.listed: tuple[InstanceInfo, ...] = ()
        self.handles: dict[str, FakeHandle] = {}

    def _next(self, method: str) -> Any:
        self.calls.append((method, anyio.current_time()))
        queue = self.script.get(method) or []
        if queue:
            outcome = queue.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        return None

    async def create(self, name: str, **options: Any) -> InstanceInfo:
        scripted = self._next("create")
        return scripted or InstanceInfo(id=f"VZ{name.upper()}", name=name, token=Secret("t" * 20))

    async def find_by_name(self, name: str) -> tuple[InstanceInfo, ...]:
        self._next("find_by_name")
        return self.listed

    async def iter(self, *, page_size: int = 100) -> AsyncIterator[InstanceInfo]:
        self._next("iter")
        for info in self.listed:
            yield info

    async def get(self, instance_id: str) -> InstanceInfo:
        scripted = self._next("get")
        return scripted or InstanceInfo(id=instance_id, billing_status=self.billing_status)

    async def subscribe(self, instance_id: str) -> Subscription:
        return self._next("subscribe") or Subscription(mode="direct")

    async def cancel(self, instance_id: str) -> StatusResult:
        return StatusResult(message="ok")

    async def resume(self, instance_id: str) -> None:
        return None

    def instance(self, instance_id: str, token: Any = None) -> FakeHandle:
        return self.handles.setdefault(instance_id, FakeHandle())

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)


async def test_lost_create_without_readable_token_fails_instead_of_creating_again() -> None:
    """A lost create whose instance is found without a token fails clearly; no second create."""
    client = FakeClient()
    client.script["create"] = [OutcomeUnknownError("lost")]
    client.listed = (InstanceInfo(id="VZX", name="abc-1", token=None),)
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "token" in final.failure
    assert client.count("create") == 1


async def test_lost_create_is_adopted_with_listed_token() -> None:
    """A lost create whose instance the list shows (with its token) is adopted and connects."""
    client = FakeClient()
    client.script["create"] = [OutcomeUnknownError("lost")]
    client.listed = (InstanceInfo(id="VZX", name="abc-1", token=Secret("listed-token-123456")),)
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.CONNECTED
    assert final.instance_id == "VZX"
    assert final.token == Secret("listed-token-123456")
    assert client.count("create") == 1


@pytest.mark.parametrize("kind", ["connect", "429", "not-sent"])
@pytest.mark.parametrize("step", ["create", "subscribe"])
async def test_a_call_proven_not_applied_is_resent_without_a_lookup(kind: str, step: str) -> None:
    """A refused connection or a 429 resends the same paid call under the same intent, unasked."""
    client = FakeClient()
    refused = {
        "connect": ConnectError("refused", method="PUT", path="/x"),
        "429": RateLimitedError(429, "slow down", retry_after=0.001),
        "not-sent": RequestNotSent("the time ran out before it was sent", method="PUT", path="/x"),
    }[kind]
    client.script[step] = [refused]
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.CONNECTED
    assert client.count("find_by_name") == 0
    assert client.count("get") == 0
    assert final.create_attempts == 1
    assert final.subscribe_attempts == 1


@pytest.mark.parametrize("answer", [ConflictError, NotFoundError])
async def test_a_create_refused_with_nothing_listed_fails_after_three_tries(answer: type) -> None:
    """Creates answered 404 or 409, with nothing listed under the name, end FAILED on the third."""
    client = FakeClient()
    client.script["create"] = [answer(409, "name taken", code="NAME_TAKEN")] * 10
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "3 times and nothing named 'abc-1' is listed" in final.failure
    assert client.count("create") == 3


async def test_a_pending_create_intent_is_looked_up_even_with_an_inventory() -> None:
    """A create intent is reconciled with a fresh lookup, not the run's older inventory."""
    client = FakeClient()
    client.listed = (InstanceInfo(id="VZX", name="abc-1", token=Secret("listed-token-123456")),)
    journal = MemoryJournal()
    pending = Snapshot(name="abc-1", intent="create", intent_at=1.0, create_attempts=1)
    await journal.save(pending)
    onboarding = Onboarding(client, journal, "abc-1", options=OPTIONS, inventory=())
    final = await onboarding.run()
    assert final.state is State.CONNECTED
    assert final.instance_id == "VZX"
    assert client.count("create") == 0


async def test_journaled_create_intent_is_reconciled_before_creating() -> None:
    """A create intent left by a crash makes the next run list by name first, then create."""
    client = FakeClient()
    journal = MemoryJournal()
    await journal.save(Snapshot(name="abc-1", intent="create", intent_at=1.0, create_attempts=1))
    final = await Onboarding(client, journal, "abc-1", options=OPTIONS).run()
    assert final.state is State.CONNECTED
    assert [m for m, _ in client.calls][:2] == ["find_by_name", "create"]
    assert final.create_attempts == 2


async def test_lost_subscribe_with_active_billing_is_not_repeated() -> None:
    """A lost subscribe is proven by billing_status ACTIVE and never sent again."""
    client = FakeClient()
    client.script["subscribe"] = [OutcomeUnknownError("lost")]
    client.billing_status = "ACTIVE"
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.CONNECTED
    assert client.count("subscribe") == 1


async def test_already_subscribed_conflict_counts_as_subscribed() -> None:
    """A 409 ALREADY_SUBSCRIBED on subscribe moves on as subscribed."""
    client = FakeClient()
    client.script["subscribe"] = [ConflictError(409, "dup", code="ALREADY_SUBSCRIBED")]
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.CONNECTED
    assert final.subscribed


async def test_one_429_pauses_the_whole_fleet() -> None:
    """A 429 with Retry-After closes the shared cool-down: no create starts before it passes."""
    client = FakeClient()
    client.script["create"] = [RateLimitedError(429, "slow down", retry_after=0.3)]
    fleet = Fleet(
        client,
        MemoryJournal(),
        [InstanceSpec(f"inst-{i}") for i in range(5)],
        options=FleetOptions(create_concurrency=1, onboarding=OPTIONS),
    )
    report = await fleet.run()
    assert report.all_connected
    assert report.cooldowns == 1
    creates = [t for m, t in client.calls if m == "create"]
    assert len(creates) == 6  # the refused call is sent again, under the same intent
    assert all(t >= creates[0] + 0.3 for t in creates[1:])


async def test_deadline_fails_with_where_it_stood() -> None:
    """An onboarding that cannot finish in its deadline ends FAILED naming its state."""

    class NeverScanned(FakeClient):
        def instance(self, instance_id: str, token: Any = None) -> FakeHandle:
            handle = FakeHandle()

            async def qr() -> QRCode:
                return QRCode(qr_code="data:image/png;base64,SAME")

            handle.session.qr = qr  # type: ignore[method-assign]
            return handle

    options = OnboardingOptions(poll_interval=0.01, deadline=0.2)
    final = await Onboarding(NeverScanned(), MemoryJournal(), "abc-1", options=options).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "deadline" in final.failure
    assert "PAIRING" in final.failure


class ResumeConflict(FakeClient):
    async def resume(self, instance_id: str) -> None:
        raise ConflictError(409, "no cancellation is scheduled", code="NO_SCHEDULED_CANCEL")


async def test_resume_conflict_is_checked_against_the_instance() -> None:
    """A 409 on resume counts as resumed when the instance is still billable, else it fails."""
    for status, expected in (("ACTIVE", State.CONNECTED), ("CANCELED", State.FAILED)):
        client = ResumeConflict()
        client.billing_status = status
        onboarding = Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS)
        assert (await onboarding.run()).state is State.CONNECTED
        assert (await onboarding.cancel()).state is State.CANCELLED
        assert (await onboarding.resume()).state is expected


async def test_invalid_create_argument_fails_without_reconciling() -> None:
    """An InputError from create is a refusal: FAILED at once, no list-and-create-again loop."""
    client = FakeClient()
    client.script["create"] = [InputError("webhook", "must be an http(s) URL")]
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=OPTIONS).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "create refused" in final.failure
    assert client.count("create") == 1
    assert client.count("find_by_name") == 0


async def test_deadline_during_create_keeps_the_intent_for_the_next_run() -> None:
    """A deadline passing while create is in flight leaves the intent; the next run adopts."""

    class HangingCreate(FakeClient):
        async def create(self, name: str, **options: Any) -> InstanceInfo:
            self._next("create")
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

    journal = MemoryJournal()
    options = OnboardingOptions(poll_interval=0.01, deadline=0.2)
    first = await Onboarding(HangingCreate(), journal, "abc-1", options=options).run()
    assert first.state is State.PLANNED
    assert first.intent == "create"
    stored = await journal.get("abc-1")
    assert stored is not None
    assert stored.intent == "create"

    client = FakeClient()
    client.listed = (InstanceInfo(id="VZX", name="abc-1", token=Secret("listed-token-123456")),)
    final = await Onboarding(client, journal, "abc-1", options=OPTIONS).run()
    assert final.state is State.CONNECTED
    assert final.instance_id == "VZX"
    assert client.count("create") == 0


async def test_refused_reconciliation_keeps_the_intent() -> None:
    """A 401 while reconciling a lost create stops without FAILED, so a later run can retry."""
    client = FakeClient()
    client.script["create"] = [OutcomeUnknownError("lost")]
    client.script["find_by_name"] = [AuthenticationError(401, "bad credentials")]
    journal = MemoryJournal()
    final = await Onboarding(client, journal, "abc-1", options=OPTIONS).run()
    assert final.state is State.PLANNED
    assert final.intent == "create"
    assert client.count("create") == 1


async def test_created_token_is_journaled_even_when_cancelled_mid_save() -> None:
    """A cancellation arriving while the create result is being saved does not drop the token."""
    entered = anyio.Event()
    release = anyio.Event()

    class SlowJournal(MemoryJournal):
        async def save(self, snapshot: Snapshot) -> None:
            if snapshot.token is not None and not release.is_set():
                entered.set()
                await release.wait()
            await super().save(snapshot)

    journal = SlowJournal()
    async with anyio.create_task_group() as tg:
        tg.start_soon(Onboarding(FakeClient(), journal, "abc-1", options=OPTIONS).run)
        await entered.wait()
        tg.cancel_scope.cancel()
        release.set()
    stored = await journal.get("abc-1")
    assert stored is not None
    assert stored.state is State.CREATED
    assert stored.token == Secret("t" * 20)


class _SlowTokenJournal(MemoryJournal):
    """The first save carrying a token takes 0.3 s (a slow fsync)."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = True

    async def save(self, snapshot: Snapshot) -> None:
        if snapshot.token is not None and self.slow:
            self.slow = False
            await anyio.sleep(0.3)
        await super().save(snapshot)


async def test_a_later_run_after_a_cancel_during_the_token_save_neither_creates_nor_loses_it() -> (
    None
):
    """A run cancelled while Created is being saved leaves the driver at CREATED: the next run on
    the same object subscribes and pairs without a second create or a lookup that could fail it."""
    client = FakeClient()
    client.listed = (InstanceInfo(id="VZABC-1", name="abc-1", token=None),)
    journal = _SlowTokenJournal()
    onboarding = Onboarding(client, journal, "abc-1", options=OPTIONS)
    with anyio.move_on_after(0.1):
        await onboarding.run()
    final = await onboarding.run()
    assert (final.state, final.token) == (State.CONNECTED, Secret("t" * 20))
    assert client.count("create") == 1
    assert client.count("find_by_name") == 0


async def test_a_deadline_during_the_token_save_ends_failed_with_the_instance_and_token() -> None:
    """A deadline passing while Created is being saved fails the instance from CREATED, keeping
    its id and token, rather than reporting a create whose outcome is unknown."""
    journal = _SlowTokenJournal()
    options = attrs.evolve(OPTIONS, deadline=0.1)
    final = await Onboarding(FakeClient(), journal, "abc-1", options=options).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "in state CREATED" in final.failure
    assert (final.instance_id, final.token, final.intent) == ("VZABC-1", Secret("t" * 20), None)
    assert await journal.get("abc-1") == final


async def test_cancel_in_a_state_that_cannot_record_it_calls_nothing() -> None:
    """cancel() in FAILED raises before asking the server, so journal and server agree."""

    class CountingCancel(FakeClient):
        async def cancel(self, instance_id: str) -> StatusResult:
            self._next("cancel")
            return StatusResult(message="ok")

    client = CountingCancel()
    journal = MemoryJournal()
    await journal.save(Snapshot(name="abc-1", state=State.FAILED, instance_id="VZX"))
    onboarding = Onboarding(client, journal, "abc-1", options=OPTIONS)
    with pytest.raises(ValueError, match="cannot cancel"):
        await onboarding.cancel()
    assert client.count("cancel") == 0


async def test_a_hung_create_hits_the_step_timeout_and_is_reconciled() -> None:
    """A create with no answer within step_timeout counts as unknown: looked up, never doubled."""

    class HangingOnce(FakeClient):
        async def create(self, name: str, **options: Any) -> InstanceInfo:
            if self.count("create") == 0:
                self._next("create")
                await anyio.sleep_forever()
            return await super().create(name, **options)

    client = HangingOnce()
    options = attrs.evolve(OPTIONS, step_timeout=0.05)
    final = await Onboarding(client, MemoryJournal(), "abc-1", options=options).run()
    assert final.state is State.CONNECTED
    assert client.count("find_by_name") == 1
    assert client.count("create") == 2


async def test_unused_pair_codes_end_pairing_instead_of_waiting_for_the_deadline() -> None:
    """Pair codes that expire unused count toward max_qr_rotations and end as pairing expired."""

    class NeverLinked(FakeSession):
        async def status(self) -> SessionStatus:
            return SessionStatus(connected=False)

    client = FakeClient()
    client.handles["VZABC-1"] = handle = FakeHandle()
    handle.session = NeverLinked()
    options = attrs.evolve(
        OPTIONS, pair_code_ttl=0.0, max_qr_rotations=2, on_qr_exhausted="fail", deadline=30
    )
    final = await Onboarding(
        client, MemoryJournal(), "abc-1", phone="5511999999999", method="pair_code", options=options
    ).run()
    assert final.state is State.FAILED
    assert final.failure is not None
    assert "pairing expired" in final.failure


async def test_a_null_presenter_subclass_is_still_called() -> None:
    """Only NullPresenter itself is skipped: a subclass overriding one method hears its event."""
    seen: list[str] = []

    class ConnectedOnly(NullPresenter):
        async def connected(self, snapshot: Snapshot) -> None:
            seen.append(snapshot.name)

    final = await Onboarding(
        FakeClient(), MemoryJournal(), "abc-1", options=OPTIONS, presenter=ConnectedOnly()
    ).run()
    assert final.state is State.CONNECTED
    assert seen == ["abc-1"]
