"""`Onboarding`: the async driver that takes one instance from nothing to connected.

The driver performs each step's I/O, turns the outcome into an event, applies the pure
`transition`, and journals the new snapshot *before* acting on it. The money rules:

- create and subscribe are journaled as intents before the call;
- the token is journaled the moment create returns;
- whenever an intent is found pending (after a crash, a timeout, a lost response), the server is
  asked first: `find_by_name` for a create, `get(...).billing_status` for a subscribe; a found
  instance is adopted, never created again; a 409 ALREADY_SUBSCRIBED means subscribed;
- a fleet passes what the account's inventory listed under the name at the start of its run, so an
  instance the journal never heard of (a lost or partial journal) is adopted, not created again.

A `JournalError` is never absorbed: a record that cannot be written means the next step's promise
cannot be kept, so it stops the onboarding (and its fleet) at once.

Concurrency: asyncio's primitives (sleeps, and the futures behind `Slots`; aiohttp ties the SDK
to asyncio anyway) and anyio's cancel scopes only where asyncio has no equivalent: a step's
deadline that the journal's lease can also cancel, and the shield around a journal write.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Final, Literal, NoReturn, TypeAlias, TypeVar

import anyio
import anyio.lowlevel
import attrs

from vzaps_async._limits import CoolDown, RateLimiter, Slots
from vzaps_async._retry import FATAL, NOT_APPLIED, REFUSED, UNKNOWN, full_jitter
from vzaps_async._secret import Secret
from vzaps_async.errors import (
    ConflictError,
    JournalError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
)
from vzaps_async.models.instances import InstanceInfo

from ._ports import InstanceHandlePort, OnboardingClient
from ._presenters_base import NullPresenter, Presenter
from ._state import (
    TERMINAL_STATES,
    TRANSITIONS,
    Cancelled,
    Connected,
    Created,
    CreateIntended,
    Event,
    Failed,
    IntentCleared,
    PairCodeShown,
    PairingAbandoned,
    PairingMethod,
    PairingStarted,
    QRShown,
    Resumed,
    Snapshot,
    State,
    Subscribed,
    SubscribeIntended,
    transition,
)
from ._store import Journal

__all__ = ["Gates", "Onboarding", "OnboardingOptions", "Transition"]

log = logging.getLogger("vzaps_async.onboarding")

T = TypeVar("T")

#: What holds a phase slot for the length of a call.
Limiter: TypeAlias = AbstractAsyncContextManager[None]

#: Billing statuses that prove a subscription exists (a lost subscribe response was applied).
SUBSCRIBED_STATUSES: Final = frozenset({"ACTIVE", "PAST_DUE", "UNPAID", "INCOMPLETE"})


@attrs.frozen
class OnboardingOptions:
    """How one onboarding behaves.

    Args:
        method: Default pairing method, ``"qr"`` or ``"pair_code"`` (needs a phone).
        step_timeout: Seconds allowed for one request (create, subscribe, one poll), retries
            included; with a `vzaps_async.Client`, waiting for a free pooled connection is not
            counted (see `RequestDeadline`).
        deadline: Seconds allowed for the whole onboarding (None: no limit); on expiry the
            instance ends FAILED with a reason saying where it stood, unless a create or
            subscribe was in flight: then its snapshot keeps the journaled intent, and the next
            run reconciles it with the server instead of losing the instance and its token.
        poll_interval: Seconds between pairing polls when the server gives no pacing hint;
            an ``expires_in`` hint shortens the wait so the next QR is fetched when it rotates.
        max_qr_rotations: Codes shown per pairing attempt before pairing is restarted (or
            switched, see ``on_qr_exhausted``).
        on_qr_exhausted: ``"restart"`` (show fresh QR codes), ``"pair_code"`` (switch to a pair
            code when the instance has a phone) or ``"fail"``.
        max_pairing_restarts: Restarts allowed before the instance fails as "pairing expired".
        pair_code_ttl: Seconds a pair code stays valid (the API does not say; 180 by default).
        backoff_base: Seconds; scale of the backoff after a retryable error.
        backoff_max: Seconds; cap of one backoff.
        max_retries: Retryable errors tolerated in a row for one call before giving up.
        create_options: Extra create arguments (``webhook``, ``events``, ``labels``, ...).
    """

    method: PairingMethod = "qr"
    step_timeout: float = 30.0
    deadline: float | None = 900.0
    poll_interval: float = 1.0
    max_qr_rotations: int = 5
    on_qr_exhausted: Literal["restart", "pair_code", "fail"] = "restart"
    max_pairing_restarts: int = 3
    pair_code_ttl: float = 180.0
    backoff_base: float = 0.2
    backoff_max: float = 10.0
    max_retries: int = 50
    create_options: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define
class Gates:
    """Limits shared by every onboarding of a fleet (a lone onboarding gets its own).

    Args:
        create: Concurrent create calls at most.
        subscribe: Concurrent subscribe calls at most.
        poll: Concurrent pairing polls at most.
        cooldown: The shared 429 cool-down.
        rate: Optional shared request-rate gate.
    """

    # Every request of a fleet passes one of these. Any async context manager will do (an
    # asyncio.Semaphore, say); the defaults are `Slots`, which does what asyncio.Semaphore does
    # for less (an anyio CapacityLimiter also tracks borrowers, which we do not need).
    create: Limiter = attrs.field(factory=lambda: Slots(8))
    subscribe: Limiter = attrs.field(factory=lambda: Slots(8))
    poll: Limiter = attrs.field(factory=lambda: Slots(64))
    cooldown: CoolDown = attrs.field(factory=CoolDown)
    rate: RateLimiter | None = None


@attrs.frozen
class Transition:
    """One applied event: what `Fleet.events` yields.

    Args:
        name: Instance name.
        previous: State before the event.
        snapshot: Snapshot after the event.
        event: The event.
    """

    name: str
    previous: State
    snapshot: Snapshot
    event: Event

    @property
    def state(self) -> State:
        """State after the event."""
        return self.snapshot.state


Observer = Callable[[Transition], Awaitable[None]]

#: Creates answered 404 or 409 (with nothing listed under the name) before the instance fails.
_REFUSED_CREATES: Final = 3


class _Abort(Exception):
    """Internal: stop the flow (a Failed event was applied, or an intent is left to reconcile)."""


def _describe(exc: BaseException) -> str:
    # Exception texts of this package never contain secrets; keep them short for reports.
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class Onboarding:
    """Drives one instance from nothing (or from its journaled snapshot) to CONNECTED.

    Args:
        client: A `vzaps_async.Client` (or anything shaped like `OnboardingClient`).
        journal: Where snapshots are saved; a snapshot found there is resumed.
        name: Instance name (the journal key, and what reconciliation searches by).
        phone: Phone number, required for the pair-code method.
        method: Pairing method (default: ``options.method``).
        options: Timeouts, polling and retry settings.
        gates: Shared limiters and cool-down (a fleet passes its own).
        presenter: Shows QR codes / pair codes.
        observer: Awaited with every `Transition` (a fleet's event stream); kept in the
            ``observer`` attribute, which may be replaced while the onboarding runs.
        inventory: The instances the server listed under ``name`` when the caller read the
            account's inventory (a fleet does, once per run). Used in place of a lookup by the
            first create step: one match is adopted, several fail the instance, none lets the
            create go ahead. None: no inventory was read (a pending create intent is then
            reconciled with `find_by_name`).
    """

    __slots__ = (
        "_client",
        "_gates",
        "_handle_cache",
        "_inventory",
        "_journal",
        "_method",
        "_options",
        "_phone",
        "_presenter",
        "_snap",
        "name",
        "observer",
    )

    def __init__(
        self,
        client: OnboardingClient,
        journal: Journal,
        name: str,
        *,
        phone: str | None = None,
        method: PairingMethod | None = None,
        options: OnboardingOptions | None = None,
        gates: Gates | None = None,
        presenter: Presenter | None = None,
        observer: Observer | None = None,
        inventory: tuple[InstanceInfo, ...] | None = None,
    ) -> None:
        self._client = client
        self._inventory = inventory
        self._journal = journal
        self.name = name
        self._phone = phone
        self._options = options or OnboardingOptions()
        self._method: PairingMethod = method or self._options.method
        self._gates = gates or Gates(cooldown=client.transport.cooldown)
        # None when nothing is shown: the common fleet case skips the presenter calls entirely.
        # (Exactly NullPresenter: a subclass may override a method and must still be called.)
        self._presenter: Presenter | None = (
            None if presenter is None or type(presenter) is NullPresenter else presenter
        )
        self.observer = observer
        self._snap: Snapshot | None = None
        self._handle_cache: tuple[str, InstanceHandlePort] | None = None
        if self._method == "pair_code" and not phone:
            raise ValueError(f"{name}: the pair_code method needs a phone number")

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest snapshot (None before `run` loaded or planned it)."""
        return self._snap

    # ------------------------------------------------------------------ public operations

    def plan(self) -> Snapshot:
        """A fresh PLANNED snapshot of this instance: where an instance the journal has never
        seen starts (nothing is saved until the create intent)."""
        return Snapshot(name=self.name, method=self._method, phone=self._phone)

    async def load(self, snapshot: Snapshot | None = None) -> Snapshot:
        """Load the journaled snapshot (or use ``snapshot``), or plan a fresh one.

        Args:
            snapshot: A snapshot already read from the journal, or a `plan` when the caller
                knows the journal has none (a fleet does: it read every record at start).
        """
        if self._snap is None:
            found = snapshot or await self._journal.get(self.name)
            self._snap = found or self.plan()
        return self._snap

    async def run(self, snapshot: Snapshot | None = None) -> Snapshot:
        """Drive the instance until it is CONNECTED, FAILED or CANCELLED, or the deadline passes.

        Cancelling the caller's scope stops at once; the journal then holds the last snapshot,
        and a later `run` continues from it (reconciling any pending intent first). A deadline
        that passes while a create or subscribe is in flight returns the snapshot as it is (not
        terminal, intent pending) for the same reason.

        Args:
            snapshot: A snapshot already read from the journal, to save a lookup.
        """
        snap = await self.load(snapshot)
        started = time.monotonic()
        deadline = self._options.deadline
        with anyio.move_on_after(deadline if deadline is not None else float("inf")) as scope:
            try:
                while snap.state not in TERMINAL_STATES:
                    await self._step(snap)
                    snap = self._current
            except _Abort:
                pass
            except JournalError:
                # Includes LeaseLostError: a shared job's journal refused a write because another
                # worker holds the instance now, so nothing more may be done or written here.
                raise
            except Exception as exc:
                # A bug or an unexpected answer: record it rather than lose the whole fleet.
                log.exception("onboarding %s stopped by an unexpected error", self.name)
                if not self._keep_intent("an unexpected error"):
                    await self._record_failure(f"unexpected error: {_describe(exc)}")
        if scope.cancelled_caught and not self._current.terminal:
            where = self._current.state.value
            if not self._keep_intent(f"the deadline of {deadline:g}s"):
                await self._record_failure(
                    f"deadline of {deadline:g}s passed in state {where} after "
                    f"{time.monotonic() - started:.1f}s"
                )
        return self._current

    def _keep_intent(self, cause: str) -> bool:
        """True when a create or subscribe with an unknown outcome is pending: stop without FAILED.

        That call may have been applied (and billed). FAILED would end the flow for good and
        orphan the instance and its token; the journaled intent instead makes the next run
        reconcile it with the server.
        """
        pending = self._current.intent
        if pending is None:
            return False
        log.warning(
            "%s: stopped by %s in state %s with the outcome of a %s unknown; run again to "
            "reconcile it",
            self.name,
            cause,
            self._current.state.value,
            pending,
        )
        return True

    async def cancel(self) -> Snapshot:
        """Cancel the instance on the server (now or at period end, as the server decides)."""
        snap = await self.load()
        if snap.instance_id is None:
            raise ValueError(f"{self.name}: nothing to cancel, the instance was never created")
        if (snap.state, Cancelled) not in TRANSITIONS:
            # Checked before the call: a server-side cancel the journal cannot record would
            # leave the two disagreeing.
            raise ValueError(f"{self.name}: cannot cancel in state {snap.state.value}")
        try:
            result = await self._call(
                self._gates.subscribe, self._client.instances.cancel, snap.instance_id, retry=True
            )
            message = result.message or result.status or ""
        except ConflictError as exc:
            message = f"already cancelled ({exc.code or exc.status})"
        await self._apply(Cancelled(message))
        return self._current

    async def resume(self) -> Snapshot:
        """Reverse a scheduled cancellation, then continue the flow to CONNECTED (see `run`)."""
        snap = await self.load()
        if snap.state is not State.CANCELLED or snap.instance_id is None:
            raise ValueError(f"{self.name}: only a cancelled instance can be resumed")
        try:
            await self._call(
                self._gates.subscribe, self._client.instances.resume, snap.instance_id, retry=True
            )
        except ConflictError as exc:
            # "Nothing scheduled" is also what a retry sees after a resume whose answer was lost:
            # the instance decides. Still billable and no cancellation pending means resumed.
            info = await self._call(
                self._gates.subscribe, self._client.instances.get, snap.instance_id, retry=True
            )
            status = str(info.billing_status or "").upper()
            if info.cancel_at is not None or status in ("CANCELED", "EXPIRED"):
                await self._record_failure(f"cannot resume: {_describe(exc)}")
                return self._current
        await self._apply(Resumed())
        return await self.run()

    # ------------------------------------------------------------------ machinery

    @property
    def _current(self) -> Snapshot:
        assert self._snap is not None, "load() first"
        return self._snap

    async def _apply(self, event: Event, *, persist: bool = True) -> Snapshot:
        old = self._snap
        assert old is not None, "load() first"
        new = transition(old, event)
        if persist:
            # The token exists only in this event: a cancellation (deadline, Ctrl-C) arriving
            # while it is being saved must not drop it, so that save cannot be cancelled.
            if isinstance(event, Created):
                with anyio.CancelScope(shield=True):
                    await self._journal.save(new)
                # A cancellation held off by the shield takes effect now, once the token is safe
                # and this driver holds it too: a later `run` must go on from CREATED, not create
                # again or reconcile the create it already has the answer of.
                self._snap = new
                await anyio.lowlevel.checkpoint_if_cancelled()
            else:
                await self._journal.save(new)
        self._snap = new
        if self._presenter is not None:
            await self._show(self._presenter, new, event)
        if self.observer is not None:
            await self.observer(Transition(self.name, old.state, new, event))
        return new

    async def _show(self, presenter: Presenter, snap: Snapshot, event: Event) -> None:
        try:
            if isinstance(event, QRShown):
                await presenter.qr_shown(snap, event)
            elif isinstance(event, PairCodeShown):
                await presenter.pair_code_shown(snap, event)
            elif isinstance(event, Connected):
                await presenter.connected(snap)
            elif isinstance(event, Failed):
                await presenter.failed(snap)
        except Exception:
            log.exception("presenter failed for %s (onboarding goes on)", self.name)

    async def _record_failure(self, reason: str) -> None:
        """End the instance FAILED with ``reason`` (where the state allows it); a re-pair
        goes back to DISCONNECTED instead, for the supervisor's next one."""
        snap = self._current
        if snap.state is State.PAIRING and snap.connected_at is not None:
            # The instance exists, is paid for and was linked once: FAILED would end its
            # supervision for good over codes nobody scanned in time.
            await self._apply(PairingAbandoned(f"re-pair not completed: {reason}"))
        elif (snap.state, Failed) in TRANSITIONS:
            await self._apply(Failed(reason))

    async def _fail(self, reason: str) -> NoReturn:
        """End the instance FAILED with ``reason`` and stop the flow."""
        await self._record_failure(reason)
        raise _Abort

    async def _pause(self, exc: BaseException | None, attempt: int) -> None:
        """Back off after a retryable error; a 429 pauses the whole fleet instead."""
        delay = full_jitter(attempt, base=self._options.backoff_base, cap=self._options.backoff_max)
        if isinstance(exc, RateLimitedError):
            self._gates.cooldown.pause(exc.retry_after if exc.retry_after is not None else delay)
            await self._gates.cooldown.wait()
        else:
            await asyncio.sleep(delay)

    async def _call(
        self,
        limiter: Limiter,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        retry: bool = False,
    ) -> T:
        """One request: wait for the fleet's cool-down and rate slot, hold a phase slot, time it.

        Args:
            limiter: The phase slot to hold.
            fn: The request.
            args: Its arguments.
            retry: Retry transient failures with backoff (only for idempotent requests).
        """
        # Retrying lives here rather than in a wrapper coroutine: every suspension of a request
        # resumes through each frame above it, so the request path keeps as few as it can.
        gates = self._gates
        attempt = 0
        while True:
            try:
                async with limiter:
                    if gates.cooldown.until:
                        await gates.cooldown.wait()
                    if gates.rate is not None:
                        await gates.rate.acquire()
                    with self._client.transport.deadline(self._options.step_timeout):
                        return await fn(*args)
            except REFUSED:
                raise
            except UNKNOWN as exc:
                if not retry:
                    raise
                attempt += 1
                if attempt > self._options.max_retries:
                    raise
                log.debug("%s: retrying after %s", self.name, type(exc).__name__)
                await self._pause(exc, attempt)

    # ------------------------------------------------------------------ steps

    async def _step(self, snap: Snapshot) -> None:
        """Perform the step that moves ``snap`` on."""
        state = snap.state
        if state is State.PAIRING:
            if snap.method == "pair_code":
                await self._pair_with_code(snap)
            else:
                await self._pair_with_qr(snap)
        elif state is State.PLANNED:
            await self._create(snap)
        elif state is State.CREATED or (state is State.RESUMED and not snap.subscribed):
            await self._subscribe(snap)
        elif state is State.SUBSCRIBED or state is State.RESUMED:
            await self._start_pairing(snap)
        else:  # pragma: no cover - terminal states never reach here
            raise AssertionError(state)

    async def _start_pairing(self, snap: Snapshot) -> None:
        await self._apply(PairingStarted(snap.method, snap.phone))

    async def _create(self, snap: Snapshot) -> None:
        # What the server has under this name decides first. A pending intent is looked up now:
        # the create it stands for may have been committed after the run's inventory was read.
        # Without one, the inventory (which covers a journal that lost the record) decides.
        matches, self._inventory = self._inventory, None
        if snap.intent == "create":
            matches = await self._find_by_name()
        if matches is not None and await self._adopt(matches):
            return
        await self._apply(CreateIntended())
        create = functools.partial(
            self._client.instances.create, self.name, **self._options.create_options
        )
        tries = self._current.create_attempts
        try:
            info = await self._send_paid(self._gates.create, create, "create", tries)
        except FATAL as exc:
            await self._fail(f"create refused: {_describe(exc)}")
        except REFUSED as exc:
            # A 404 or 409 to a create says nothing sure about the name: what the server lists
            # under it decides, in the next step, a few times; then it is a refusal.
            if tries >= _REFUSED_CREATES:
                await self._fail(
                    f"create answered {_describe(exc)} {tries} times and nothing named "
                    f"{self.name!r} is listed"
                )
            log.info("%s: create answered %s; reconciling", self.name, _describe(exc))
            await self._pause(exc, tries)
            return
        if info is None:
            return  # outcome unknown: the next step reconciles by name before any new create
        if info.token is None:
            await self._fail(
                f"create returned instance {info.id} without a token; it cannot be used "
                "(recover the token in the VZaps app)"
            )
        await self._apply(Created(info.id, info.token))

    async def _send_paid(
        self, limiter: Limiter, send: Callable[[], Awaitable[T]], what: str, tries: int
    ) -> T | None:
        """Send a call that costs money (create, subscribe) under its journaled intent.

        A failure that proves it was not applied (a 429, a connection never made) sends it again
        as it is, up to ``max_retries`` in a row; an unknown outcome returns None after a pause,
        leaving the intent for the next step to reconcile; a refusal is raised for the caller.

        Args:
            limiter: The phase slot to hold.
            send: The call.
            what: Its name, for reasons and logs.
            tries: Intents of this call journaled so far (the pause after an unknown outcome
                grows with them).
        """
        attempt = 0
        while True:
            try:
                return await self._call(limiter, send)
            except REFUSED:
                raise
            except NOT_APPLIED as exc:
                attempt += 1
                if attempt > self._options.max_retries:
                    await self._fail(f"{what} not sent after {attempt} tries: {_describe(exc)}")
                await self._pause(exc, attempt)
            except UNKNOWN as exc:
                log.info(
                    "%s: %s outcome unknown (%s); reconciling", self.name, what, _describe(exc)
                )
                await self._pause(exc, tries)
                return None

    async def _find_by_name(self) -> tuple[InstanceInfo, ...]:
        try:
            return await self._call(
                self._gates.create, self._client.instances.find_by_name, self.name, retry=True
            )
        except FATAL as exc:
            # Still unknown whether the create was applied: keep the intent for the next run.
            self._keep_intent(f"{_describe(exc)} while reconciling")
            raise _Abort from exc

    async def _adopt(self, matches: tuple[InstanceInfo, ...]) -> bool:
        """Adopt the one instance named like this one; True when the snapshot moved on.

        Several matches fail the instance (never one picked at random, never a new create);
        none clears a pending create intent so the create may go ahead.
        """
        if not matches:
            if self._current.intent == "create":
                await self._apply(IntentCleared(f"no instance named {self.name!r} on the server"))
            return False
        if len(matches) > 1:
            ids = ", ".join(sorted(m.id for m in matches))
            await self._fail(
                f"{len(matches)} instances named {self.name!r} exist ({ids}); "
                "not adopting one at random, resolve by hand"
            )
        found = matches[0]
        token: Secret | None = found.token
        if token is None:
            found = await self._call(
                self._gates.create, self._client.instances.get, found.id, retry=True
            )
            token = found.token
        if token is None:
            await self._fail(
                f"instance {found.id} named {self.name!r} exists on the server but the server "
                "does not return its token; recover it in the VZaps app (it is not created again)"
            )
        log.info("%s: adopted instance %s found on the server by name", self.name, found.id)
        await self._apply(Created(found.id, token, adopted=True))
        if str(found.billing_status or "").upper() in SUBSCRIBED_STATUSES:
            # Already paid for: no subscribe is sent at all.
            await self._apply(Subscribed("existing", adopted=True))
        return True

    async def _subscribe(self, snap: Snapshot) -> None:
        assert snap.instance_id is not None
        if snap.intent == "subscribe" and await self._reconcile_subscribe(snap.instance_id):
            return
        await self._apply(SubscribeIntended())
        subscribe = functools.partial(self._client.instances.subscribe, snap.instance_id)
        try:
            sub = await self._send_paid(
                self._gates.subscribe, subscribe, "subscribe", self._current.subscribe_attempts
            )
        except PaymentRequiredError as exc:
            await self._fail(f"billing declined: {exc.message} ({exc.code or exc.status})")
        except ConflictError as exc:
            if exc.code is None or "SUBSCRIBED" in exc.code.upper():
                await self._apply(Subscribed("existing", adopted=True))
                return
            await self._fail(f"subscribe refused: {_describe(exc)}")
        except REFUSED as exc:
            await self._fail(f"subscribe refused: {_describe(exc)}")
        if sub is None:
            return  # outcome unknown: the next step reads the billing status first
        mode = str(sub.mode) if sub.mode is not None else "direct"
        if mode == "checkout":
            await self._fail(
                f"billing needs the hosted checkout page (no card on file): {sub.url or 'no url'}"
            )
        # Not saved on its own: PairingStarted follows at once, with no call between, and its save
        # carries the subscription. A crash before that save leaves the subscribe intent
        # journaled, which the next run settles by reading billing_status: a GET, nothing billed.
        await self._apply(Subscribed(mode), persist=False)

    async def _reconcile_subscribe(self, instance_id: str) -> bool:
        """Read billing_status after a lost subscribe; True when it proves the subscription."""
        try:
            info = await self._call(
                self._gates.subscribe, self._client.instances.get, instance_id, retry=True
            )
        except NotFoundError as exc:
            await self._fail(f"cannot reconcile subscribe: {_describe(exc)}")
        except FATAL as exc:
            # Still unknown whether the card was charged: keep the intent for the next run.
            self._keep_intent(f"{_describe(exc)} while reconciling")
            raise _Abort from exc
        status = str(info.billing_status or "").upper()
        if status in SUBSCRIBED_STATUSES:
            await self._apply(Subscribed("existing", adopted=True))
            return True
        # TRIALING (or unknown) does not prove either way; subscribing again is safe because the
        # server answers 409 ALREADY_SUBSCRIBED to a second subscribe, which counts as done.
        await self._apply(IntentCleared(f"billing_status is {status or 'unknown'}"))
        return False

    # ------------------------------------------------------------------ pairing

    def _handle(self, snap: Snapshot) -> InstanceHandlePort:
        # One handle per instance for the whole pairing loop, not one per poll.
        assert snap.instance_id is not None
        cached = self._handle_cache
        if cached is None or cached[0] != snap.instance_id:
            cached = (snap.instance_id, self._client.instance(snap.instance_id, snap.token))
            self._handle_cache = cached
        return cached[1]

    async def _pair_with_qr(self, snap: Snapshot) -> None:
        """Poll for QR codes until connected, failed, or pairing switches to a pair code."""
        # The loop stays here between polls instead of returning to `run`: every suspension of a
        # poll resumes through the frames above it.
        handle = self._handle(snap)
        options = self._options
        while True:
            try:
                qr = await self._call(self._gates.poll, handle.session.qr, retry=True)
            except REFUSED as exc:
                await self._fail(f"pairing refused: {_describe(exc)}")
            if qr.connected:
                await self._apply(Connected(qr.phone))
                return
            snap = self._current
            if qr.qr_code and qr.qr_code != snap.qr_code:
                if snap.qr_rotations >= options.max_qr_rotations:
                    await self._restart_pairing()
                    if self._current.method != "qr":
                        return
                expires = _epoch(qr.expires_at)
                if expires is None and qr.expires_in is not None:
                    expires = time.time() + qr.expires_in
                await self._apply(QRShown(qr.qr_code, expires), persist=False)
            delay = options.poll_interval
            if qr.expires_in is not None:
                delay = min(delay, max(qr.expires_in, 0.05))
            await asyncio.sleep(delay)

    async def _pair_with_code(self, snap: Snapshot) -> None:
        """Show pair codes and poll the status until connected, failed, or switched to QR."""
        handle = self._handle(snap)
        options = self._options
        while True:
            snap = self._current
            if snap.method != "pair_code":
                return
            phone = snap.phone
            assert phone is not None
            expired = snap.code_expires_at is not None and time.time() >= snap.code_expires_at
            try:
                if snap.pair_code is None or expired:
                    if snap.qr_rotations >= options.max_qr_rotations:
                        await self._restart_pairing()
                        continue
                    code = await self._call(
                        self._gates.poll, handle.session.pair_code, phone, retry=True
                    )
                    await self._apply(
                        PairCodeShown(code.code, phone, time.time() + options.pair_code_ttl),
                        persist=False,
                    )
                status = await self._call(self._gates.poll, handle.session.status, retry=True)
            except REFUSED as exc:
                await self._fail(f"pairing refused: {_describe(exc)}")
            if status.connected:
                await self._apply(Connected(status.phone))
                return
            await asyncio.sleep(options.poll_interval)

    async def _restart_pairing(self) -> None:
        """Every code of this attempt expired unscanned: restart, switch method, or fail."""
        snap = self._current
        opts = self._options
        if opts.on_qr_exhausted == "fail" or snap.pairing_restarts >= opts.max_pairing_restarts:
            await self._fail(
                f"pairing expired: no phone linked after {snap.qr_rotations} codes in "
                f"{snap.pairing_restarts + 1} attempts"
            )
        method: PairingMethod = snap.method
        if opts.on_qr_exhausted == "pair_code" and snap.phone:
            method = "pair_code" if snap.method == "qr" else "qr"
        await self._apply(PairingStarted(method, snap.phone))
