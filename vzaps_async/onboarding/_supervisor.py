"""`Supervisor`: keeps a journal's connected instances connected, and re-pairs them when needed.

Onboarding ends at CONNECTED; sessions then drop, get logged out, or turn into zombies that say
connected but deliver nothing. The supervisor watches every instance of a journal that has
connected once, with three signals: jittered ``session/status`` probes (more often after
trouble), the instance's outgoing queue (a message that does not move while the session says
connected is the sign of a dead session), and, when the caller has them, ``Connected`` /
``Disconnected`` events from webhooks or the realtime stream (`feed`).

What it does about them, per instance, through the same pure table as onboarding:

- a drop shorter than ``grace_period`` changes nothing (it is counted in the report only);
- a drop that lasts longer, or a ``Disconnected`` event saying the session logged out, is
  journaled (``Disconnected``) and re-paired: ``PairingStarted`` (counted as a re-pair), then the
  onboarding driver's own pairing loop with the caller's presenter, so a person sees the new QR
  or pair code the same way they saw the first;
- a stalled session (``Stalled``) is restarted (``POST /instances/{id}/restart``); if its
  queue still does not move ``restart_wait`` seconds later, it is logged out and re-paired;
- a re-pair nobody scanned in time goes back to DISCONNECTED (``PairingAbandoned``) for the
  next one;
- an instance the server refuses to answer for (401, 403), or one at the re-pair cap, is left
  to a person (``Escalated``: the reason is journaled and listed in the report).

Re-pairs and restarts of one instance back off exponentially and are capped, counted since the
session was last connected; the counts and times are journaled before each request
(``PairingStarted``, ``RestartIntended``), so the caps and the backoff hold across supervisor
runs, and a supervisor that crash-loops cannot re-pair or restart more often. The supervisor
never creates or subscribes anything: the only driver steps it runs are pairing steps. A
supervisor killed at any moment and started again continues: an instance journaled PAIRING is
polled (and counted connected, without a second re-pair, if its phone scanned in between), a
STALLED one remembers its restarts.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio
import attrs

from vzaps_async._client import Client
from vzaps_async._limits import Slots
from vzaps_async.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    JournalError,
    LeaseLostError,
    NotFoundError,
    PermissionDeniedError,
    VZapsError,
)
from vzaps_async.models.events import Connected as ConnectedEvent
from vzaps_async.models.events import Disconnected as DisconnectedEvent
from vzaps_async.models.events import Event as WireEvent
from vzaps_async.models.instances import BillingStatus
from vzaps_async.models.queues import QueuePage

from ._driver import Gates, Observer, Onboarding, OnboardingOptions, Transition
from ._fleet import Failure, _first_leaf
from ._presenters_base import NullPresenter, Presenter
from ._state import (
    SUPERVISED_STATES,
    Connected,
    Disconnected,
    Escalated,
    Event,
    Failed,
    PairingStarted,
    Restarted,
    RestartIntended,
    Snapshot,
    Stalled,
    State,
    transition,
)
from ._store import Journal

__all__ = ["Supervisor", "SupervisorOptions", "SupervisorReport"]

log = logging.getLogger("vzaps_async.onboarding.supervisor")

T = TypeVar("T")

# Billing statuses after which no re-pair is attempted (the instance no longer works, or is
# not paid for).
_BILLING_ENDED = frozenset(
    {BillingStatus.CANCELED, BillingStatus.EXPIRED, BillingStatus.INCOMPLETE_EXPIRED}
)

# A Disconnected event whose reason says this needs a new pairing at once (no grace period).
_LOGOUT_WORDS = ("logout", "logged out", "logged_out", "unpaired", "unlinked")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise InputError(attribute.name, f"must be greater than 0, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise InputError(attribute.name, f"must be 0 or more, got {value!r}")


@attrs.frozen
class SupervisorOptions:
    """How often the supervisor looks, how patient it is, and how far it goes.

    Args:
        probe_interval: Seconds between status probes of a healthy instance.
        trouble_interval: Seconds between probes of an instance in trouble (down, stalled, or
            just restarted).
        jitter: Each wait is the interval times a random factor in ``[1 - jitter, 1 + jitter]``,
            so a fleet's probes do not arrive together.
        probe_concurrency: Probe requests in flight at most, over the whole fleet.
        grace_period: Seconds a session may stay disconnected before anything is done; a drop
            that ends sooner changes nothing.
        watch_queue: Read each connected instance's outgoing queue with every probe.
        stuck_after: Seconds the oldest queued message may stay first in line, while the
            session says connected, before the session counts as stalled. Keep it above the
            longest ``delay`` you give sends.
        restart_wait: Seconds after a restart before a still-stalled session is re-paired.
        max_restarts: Restarts of a stalled instance sent (answered or not) since it was last
            connected; after that the ladder goes on to the re-pair.
        restart_backoff: Seconds after a failed restart before the next, doubling with each
            further one.
        repair_concurrency: Re-pairs (QR or pair code shown to a person) running at once.
        max_repairs: Re-pairs of one instance since it was last connected, across runs; at the
            cap it is left to a person (``Escalated``), not re-paired again.
        repair_backoff: Seconds after a re-pair that did not connect before the next, doubling
            with each further one (across runs: counted from the journaled ``repaired_at``).
        step_timeout: Seconds allowed for one probe or restart request.
        onboarding: Options of the pairing loop of a re-pair (poll interval, QR rotations,
            pairing restarts, deadline).
    """

    probe_interval: float = attrs.field(default=30.0, validator=_positive)
    trouble_interval: float = attrs.field(default=5.0, validator=_positive)
    jitter: float = attrs.field(default=0.2, validator=_not_negative)
    probe_concurrency: int = attrs.field(default=16, validator=_positive)
    grace_period: float = attrs.field(default=60.0, validator=_not_negative)
    watch_queue: bool = True
    stuck_after: float = attrs.field(default=120.0, validator=_positive)
    restart_wait: float = attrs.field(default=60.0, validator=_not_negative)
    max_restarts: int = attrs.field(default=3, validator=_not_negative)
    restart_backoff: float = attrs.field(default=30.0, validator=_not_negative)
    repair_concurrency: int = attrs.field(default=8, validator=_positive)
    max_repairs: int = attrs.field(default=3, validator=_not_negative)
    repair_backoff: float = attrs.field(default=30.0, validator=_not_negative)
    step_timeout: float = attrs.field(default=30.0, validator=_positive)
    onboarding: OnboardingOptions = attrs.field(factory=OnboardingOptions)

    def __attrs_post_init__(self) -> None:
        if self.jitter >= 1:
            raise InputError("jitter", f"must be below 1, got {self.jitter!r}")


@attrs.frozen
class SupervisorReport:
    """What a `Supervisor.run` saw and did.

    Args:
        supervised: Instances watched.
        counts: Instances per state at the end.
        short_drops: Drops that ended within the grace period (left alone).
        disconnects: Drops that outlasted the grace period or were logouts (journaled).
        stalls: Sessions found stalled (saying connected, queue not moving).
        restarts: Restarts sent.
        repairs: Re-pairs started.
        probe_errors: Probes that got no answer (counted, retried at the next probe).
        failures: Instances that ended neither CONNECTED nor in a state the next run continues.
        attention: Instances left to a person (refused by the server, or at the re-pair cap),
            with the reason; a later run looks at them again.
        lost: Instances of a shared job whose lease this run lost (it stopped watching them;
            their counts are as last seen).
        elapsed: Seconds the run took.
    """

    supervised: int
    counts: Mapping[State, int]
    short_drops: int
    disconnects: int
    stalls: int
    restarts: int
    repairs: int
    probe_errors: int
    failures: tuple[Failure, ...]
    attention: tuple[Failure, ...]
    lost: int
    elapsed: float

    @property
    def all_connected(self) -> bool:
        """True when every supervised instance ended CONNECTED, under this run's watch."""
        return self.counts.get(State.CONNECTED, 0) == self.supervised and not self.lost


@attrs.define(eq=False)
class _Watch:
    """What the supervisor knows about one instance between probes (not journaled)."""

    snap: Snapshot
    wake: anyio.Event = attrs.field(factory=anyio.Event)
    #: When a probe (or an event) first saw the current drop; None while connected.
    down_since: float | None = None
    #: A Disconnected event said the session logged out: no grace period.
    logged_out: bool = False
    #: The oldest queued message and when it was first seen oldest.
    oldest: tuple[str, float] | None = None
    last_ok: float | None = None
    #: The server refused to answer for it (401/403): not probed again in this run.
    refused: bool = False
    #: For a shared job: cancelled by the journal when the lease on the instance is lost.
    lease: anyio.CancelScope | None = None
    #: The lease was lost: another supervisor looks after it now.
    lost: bool = False


class Supervisor:
    """Watches a journal's connected instances and heals drops, logouts and stalled sessions.

    Args:
        client: A `vzaps_async.Client` for the account that owns the journal's instances.
        journal: The journal an onboarding (or an earlier supervisor) wrote; every instance in
            it that has connected once is supervised, and every decision is saved to it.
        options: Intervals, grace period, ladder and caps.
        presenter: Shows the QR codes or pair codes of re-pairs to whoever holds the phones.
        observer: Awaited with every `Transition` the supervisor or its re-pairs apply (metrics,
            logs).

    Example::

        async with SQLiteJournal("fleet.db") as journal:
            report = await Supervisor(client, journal, presenter=WebPresenter()).run(3600)
    """

    def __init__(
        self,
        client: Client,
        journal: Journal,
        *,
        options: SupervisorOptions | None = None,
        presenter: Presenter | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._client = client
        self._observer = observer
        self._journal = journal
        self._options = options or SupervisorOptions()
        self._presenter: Presenter = presenter or NullPresenter()
        self._gates = Gates(
            poll=Slots(self._options.probe_concurrency),
            cooldown=client.transport.cooldown,
        )
        self._repair_slots = Slots(self._options.repair_concurrency)
        self._watches: dict[str, _Watch] = {}
        self._by_id: dict[str, _Watch] = {}
        self._tally: Counter[str] = Counter()
        self._running = False
        self._scope: anyio.CancelScope | None = None
        self._stop_requested = False

    @property
    def snapshots(self) -> Mapping[str, Snapshot]:
        """The latest snapshot of every supervised instance, by name."""
        return {name: watch.snap for name, watch in self._watches.items()}

    @property
    def counts(self) -> Mapping[State, int]:
        """Live number of supervised instances per state."""
        return dict(Counter(watch.snap.state for watch in self._watches.values()))

    async def feed(self, event: WireEvent) -> None:
        """Hand the supervisor a webhook or realtime event (others than Connected and
        Disconnected, and events of instances it does not watch, are ignored).

        A ``Disconnected`` starts the grace period at once (or, when its reason says the session
        logged out, skips it); either event makes the instance's next probe happen now. It is
        an async handler, so it plugs into a webhook `Router`:
        ``router.add(supervisor.feed, "Connected", "Disconnected")``.

        Args:
            event: A parsed event (`vzaps_async.parse_event`, a `Router` handler's argument).
        """
        watch = self._by_id.get(event.instance_id or "")
        if watch is None:
            return
        if isinstance(event, DisconnectedEvent):
            watch.down_since = watch.down_since or time.time()
            reason = (event.reason or "").lower()
            watch.logged_out = watch.logged_out or any(w in reason for w in _LOGOUT_WORDS)
        elif not isinstance(event, ConnectedEvent):
            return
        watch.wake.set()

    async def run(self, duration: float | None = None) -> SupervisorReport:
        """Supervise until ``duration`` seconds have passed (None: until cancelled).

        Cancelling the caller stops every watch at once; the journal holds every decision made,
        and a later run continues from it.

        Args:
            duration: Seconds to run; None runs until the caller's scope is cancelled.

        Raises:
            JournalError: The journal could not be read or written.
        """
        if self._running:
            raise RuntimeError("this supervisor is already running")
        self._running = True
        started = time.monotonic()
        try:
            async with self._journal.supervision(self._gates) as held:
                for snap, lease in held:
                    assert snap.instance_id is not None
                    watch = _Watch(snap, lease=lease)
                    self._watches[snap.name] = watch
                    self._by_id[snap.instance_id] = watch
                await self._supervise(duration)
        finally:
            self._running = False
            self._scope = None
            self._stop_requested = False
        return self._report(time.monotonic() - started)

    async def _supervise(self, duration: float | None) -> None:
        with anyio.move_on_after(duration if duration is not None else float("inf")) as self._scope:
            if self._stop_requested:
                self._scope.cancel()  # stop() came while the journal was being read
            try:
                async with anyio.create_task_group() as tg:
                    for watch in self._watches.values():
                        tg.start_soon(self._watch_held, watch)
            except BaseExceptionGroup as group:
                # A journal that fails stops every watch: raise its own error, not a group.
                journal_errors = group.subgroup(JournalError)
                if journal_errors is None or group.split(JournalError)[1] is not None:
                    raise
                raise _first_leaf(journal_errors) from group

    def stop(self) -> None:
        """Make a running `run` return its report now (what ``duration`` does when it ends).

        A stop that arrives while `run` is still reading the journal is kept: `run` returns
        as soon as it has read it.
        """
        if self._running:
            self._stop_requested = True
        if self._scope is not None:
            self._scope.cancel()

    def _report(self, elapsed: float) -> SupervisorReport:
        failures = tuple(
            Failure(w.snap.name, w.snap.state, w.snap.failure or w.snap.incident or "")
            for w in self._watches.values()
            if w.snap.state in (State.FAILED, State.CANCELLED)
        )
        attention = tuple(
            Failure(w.snap.name, w.snap.state, w.snap.attention)
            for w in self._watches.values()
            if w.snap.attention is not None and w.snap.state in SUPERVISED_STATES
        )
        tally = self._tally
        return SupervisorReport(
            supervised=len(self._watches),
            counts=self.counts,
            short_drops=tally["short_drops"],
            disconnects=tally["disconnects"],
            stalls=tally["stalls"],
            restarts=tally["restarts"],
            repairs=tally["repairs"],
            probe_errors=tally["probe_errors"],
            failures=failures,
            attention=attention,
            lost=sum(w.lost for w in self._watches.values()),
            elapsed=elapsed,
        )

    # ------------------------------------------------------------------ one instance

    def _in_trouble(self, watch: _Watch) -> bool:
        # One left to a person is only looked at now and then, to see it come back.
        if watch.snap.attention is not None:
            return False
        return watch.down_since is not None or watch.snap.state is not State.CONNECTED

    async def _watch_held(self, watch: _Watch) -> None:
        """Watch one instance for as long as the journal lets this supervisor hold it."""
        if watch.lease is None:
            await self._watch(watch)
            return
        try:
            with watch.lease:
                await self._watch(watch)
        except LeaseLostError:
            watch.lost = True  # the write that found out was refused: nothing more is sent
            return
        watch.lost = watch.lease.cancelled_caught
        if watch.lost:
            log.warning("%s: lease lost; no longer supervised by this run", watch.snap.name)

    async def _watch(self, watch: _Watch) -> None:
        opts = self._options
        # The first probes spread over one interval rather than all at once; an instance
        # journaled in trouble is looked at right away.
        delay = random.uniform(0, opts.probe_interval) if not self._in_trouble(watch) else 0.0
        while watch.snap.state in SUPERVISED_STATES and not watch.refused:
            with anyio.move_on_after(delay):
                await watch.wake.wait()
            watch.wake = anyio.Event()
            await self._check(watch)
            interval = opts.trouble_interval if self._in_trouble(watch) else opts.probe_interval
            delay = interval * random.uniform(1 - opts.jitter, 1 + opts.jitter)

    async def _apply(self, watch: _Watch, event: Event) -> Snapshot:
        old = watch.snap
        new = transition(old, event)
        await self._journal.save(new)
        watch.snap = new
        if self._observer is not None:
            await self._observer(Transition(new.name, old.state, new, event))
        if isinstance(event, (Failed, Escalated)):
            # Whoever holds the phones hears of it the way onboarding's failures reach them.
            try:
                await self._presenter.failed(new)
            except Exception:
                log.exception("presenter failed for %s (supervision goes on)", new.name)
        return new

    async def _request(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """One probe or restart: behind the fleet's 429 gate and probe slots, bounded in time."""
        gates = self._gates
        if gates.cooldown.until:
            await gates.cooldown.wait()
        async with gates.poll:
            with self._client.transport.deadline(self._options.step_timeout):
                return await fn(*args)

    async def _check(self, watch: _Watch) -> None:
        snap = watch.snap
        if snap.state is State.PAIRING:
            await self._repair(watch)  # a re-pair the last run journaled: continue it
            return
        assert snap.instance_id is not None
        handle = self._client.instance(snap.instance_id, snap.token)
        try:
            status = await self._request(handle.session.status)
            queued: QueuePage | None = None
            if status.connected and self._options.watch_queue:
                queued = await self._request(handle.queues.messages)
        except (AuthenticationError, NotFoundError, PermissionDeniedError) as exc:
            if await self._gone(watch, "probe", exc):
                return
            if isinstance(exc, NotFoundError):
                self._tally["probe_errors"] += 1  # the account still lists it: look again
            else:
                await self._refused(watch, "probe", exc)
            return
        except (VZapsError, TimeoutError, OSError) as exc:
            # No answer proves nothing about the session: look again soon.
            # A 429 has already paused the client (capped at the retry policy's
            # max_retry_after): pausing again here would freeze every request for the full
            # Retry-After, hours at worst.
            self._tally["probe_errors"] += 1
            log.debug("%s: probe failed: %s", snap.name, type(exc).__name__)
            return
        now = time.time()
        if status.connected:
            await self._connected(watch, queued, now, status.phone)
        else:
            await self._disconnected(watch, now)

    async def _disconnected(self, watch: _Watch, now: float) -> None:
        watch.oldest = None
        snap = watch.snap
        if snap.state is State.CONNECTED:
            watch.down_since = watch.down_since or now
            if not watch.logged_out and now - watch.down_since < self._options.grace_period:
                return  # debounce: it may come back on its own
            reason = "logout" if watch.logged_out else f"down for {now - watch.down_since:.0f}s"
            await self._apply(watch, Disconnected(reason, last_seen=watch.last_ok))
            self._tally["disconnects"] += 1
        elif snap.state is State.STALLED:
            await self._apply(watch, Disconnected("disconnected while stalled", watch.last_ok))
            self._tally["disconnects"] += 1
        await self._repair(watch)

    async def _connected(
        self, watch: _Watch, queued: QueuePage | None, now: float, phone: str | None
    ) -> None:
        opts = self._options
        if watch.down_since is not None and watch.snap.state is State.CONNECTED:
            self._tally["short_drops"] += 1
        watch.down_since = None
        watch.logged_out = False
        if watch.snap.state is State.DISCONNECTED:
            await self._apply(watch, Connected(phone))  # came back before we re-paired
        moving, stuck_for = self._queue_moving(watch, queued, now)
        snap = watch.snap
        if snap.state is State.CONNECTED:
            if queued is not None and stuck_for >= opts.stuck_after:
                depth = queued.total if queued.total is not None else len(queued.content)
                await self._apply(
                    watch,
                    Stalled(
                        f"{depth} message(s) stuck in the queue for {stuck_for:.0f}s while "
                        "connected",
                        last_seen=watch.last_ok,
                    ),
                )
                self._tally["stalls"] += 1
            else:
                watch.last_ok = now
            return
        # STALLED: the ladder. Cured once the queue moves; else restart once, then re-pair.
        if moving:
            await self._apply(watch, Connected(phone))
            watch.last_ok = now
            return
        if snap.attention is not None and snap.repair_streak >= opts.max_repairs:
            return  # left to a person: nothing more is tried on its own
        restarted_at = snap.restarted_at
        restarted = (
            restarted_at is not None
            and snap.trouble_since is not None
            and restarted_at >= snap.trouble_since
        )
        if not restarted and snap.restart_attempts < opts.max_restarts:
            if time.time() >= _not_before(
                snap.restart_sent_at, snap.restart_attempts, opts.restart_backoff
            ):
                await self._restart(watch)
            return
        if restarted_at is not None and restarted and now - restarted_at < opts.restart_wait:
            return
        # The queue's head must have been stuck a full stuck_after since the restart (or
        # since the last failed logout: watch.oldest is reset by both): one look proves nothing.
        if stuck_for < opts.stuck_after:
            return
        # Cap and backoff first: logging a session out that will not be re-paired would leave
        # it with no session and nobody shown a QR.
        if not await self._may_repair(watch):
            return
        assert snap.instance_id is not None
        try:
            # A zombie session still says connected: log it out, or no QR would be shown.
            await self._request(
                self._client.instance(snap.instance_id, snap.token).session.disconnect
            )
        except ConflictError:
            pass
        except (VZapsError, TimeoutError, OSError) as exc:
            log.warning(
                "%s: logging the stalled session out failed (tried again once its queue has "
                "been stuck another %gs): %s",
                snap.name,
                opts.stuck_after,
                type(exc).__name__,
            )
            watch.oldest = None
            return
        await self._repair(watch)

    def _queue_moving(
        self, watch: _Watch, queued: QueuePage | None, now: float
    ) -> tuple[bool, float]:
        """(whether the queue moved since the last probe, seconds its head has been stuck)."""
        if queued is None or not queued.content:
            watch.oldest = None
            return True, 0.0
        head = queued.content[0].message_id or ""
        previous = watch.oldest
        if previous is not None and previous[0] == head:
            return False, now - previous[1]
        watch.oldest = (head, now)
        # A new head after an old one means messages went out; a first look proves nothing.
        return previous is not None, 0.0

    async def _gone(self, watch: _Watch, what: str, exc: VZapsError) -> bool:
        """Whether the instance is gone from the account (deleted on the server); if it is,
        it is journaled FAILED with the reason, since no probe or restart will ever answer.

        A refused instance token or a 403 alone proves nothing about the instance (the
        account's credentials may be the trouble): the account's own view decides.
        """
        snap = watch.snap
        assert snap.instance_id is not None
        try:
            await self._request(self._client.instances.get, snap.instance_id)
        except NotFoundError:
            pass
        except (VZapsError, TimeoutError, OSError):
            return False
        else:
            return False
        reason = (
            f"the instance is not on the server any more (a {what} got "
            f"{type(exc).__name__}); no longer supervised"
        )
        log.warning("%s: %s", snap.name, reason)
        if snap.state is State.CONNECTED:
            await self._apply(watch, Disconnected(reason, last_seen=watch.last_ok))
            self._tally["disconnects"] += 1
        await self._apply(watch, Failed(reason))
        return True

    async def _refused(self, watch: _Watch, what: str, exc: VZapsError) -> None:
        """The server refuses to answer for an instance it still has (a 401 or 403 that the
        account's own view does not explain): left to a person, not asked again this run."""
        status = getattr(exc, "status", None)
        reason = (
            f"the server refused the {what} ({type(exc).__name__}"
            f"{f' {status}' if status else ''}); check that these credentials may use this "
            "instance, then run supervise again"
        )
        log.warning("%s: %s", watch.snap.name, reason)
        if watch.snap.state is State.CONNECTED:
            await self._apply(watch, Disconnected(reason, last_seen=watch.last_ok))
            self._tally["disconnects"] += 1
        if watch.snap.attention != reason:
            await self._apply(watch, Escalated(reason))
        watch.refused = True

    async def _restart(self, watch: _Watch) -> None:
        opts = self._options
        # Journaled first: every restart sent counts, whatever happens to its answer.
        snap = await self._apply(watch, RestartIntended())
        assert snap.instance_id is not None
        try:
            await self._request(self._client.instances.restart, snap.instance_id)
        except (AuthenticationError, NotFoundError, PermissionDeniedError) as exc:
            if not await self._gone(watch, "restart", exc):
                await self._refused(watch, "restart", exc)
            return
        except (VZapsError, TimeoutError, OSError) as exc:
            left = opts.max_restarts - snap.restart_attempts
            log.warning(
                "%s: restart %d failed (%s); %s",
                snap.name,
                snap.restart_attempts,
                type(exc).__name__,
                f"{left} more after a backoff" if left > 0 else "no more: the re-pair is next",
            )
            return
        await self._apply(watch, Restarted())
        self._tally["restarts"] += 1
        watch.oldest = None  # judge the queue afresh after the restart

    async def _may_repair(self, watch: _Watch) -> bool:
        """Whether a re-pair may start now (the journaled streak is under the cap and its
        backoff has passed); at the cap the instance is left to a person (``Escalated``)."""
        snap = watch.snap
        opts = self._options
        if snap.repair_streak >= opts.max_repairs:
            if snap.attention is None:
                await self._apply(
                    watch,
                    Escalated(
                        f"re-paired {snap.repair_streak} time(s) since it was last connected "
                        f"(the cap, max_repairs={opts.max_repairs}) and still not connected "
                        f"({snap.incident or 'disconnected'}); link its phone by other means, "
                        "or run supervise with a higher --max-repairs"
                    ),
                )
            return False
        # Backing off: the next probe looks again.
        return time.time() >= _not_before(snap.repaired_at, snap.repair_streak, opts.repair_backoff)

    async def _still_billed(self, watch: _Watch) -> bool:
        """Whether the server still bills the instance, so a re-pair is worth a person's time;
        an instance whose subscription ended is journaled FAILED with the status instead."""
        snap = watch.snap
        assert snap.instance_id is not None
        try:
            info = await self._request(self._client.instances.get, snap.instance_id)
        except (VZapsError, TimeoutError, OSError) as exc:
            log.warning("%s: reading billing before a re-pair failed: %s", snap.name, exc)
            return False  # the next probe looks again
        if info.billing_status not in _BILLING_ENDED:
            return True
        await self._apply(
            watch,
            Failed(
                f"not re-paired: the subscription is {info.billing_status} "
                f"({snap.incident or 'disconnected'})"
            ),
        )
        return False

    async def _repair(self, watch: _Watch) -> None:
        """Pair the instance again (or continue a journaled re-pair) through the driver."""
        opts = self._options
        snap = watch.snap
        if snap.state is not State.PAIRING:
            if not await self._may_repair(watch) or not await self._still_billed(watch):
                return
            await self._apply(watch, PairingStarted(snap.method, snap.phone))
            self._tally["repairs"] += 1
            log.info("%s: re-pairing (%s)", snap.name, snap.incident or "disconnected")
        async with self._repair_slots:
            onboarding = Onboarding(
                self._client,
                self._journal,
                watch.snap.name,
                phone=watch.snap.phone,
                method=watch.snap.method,
                options=opts.onboarding,
                gates=self._gates,
                presenter=self._presenter,
                observer=self._observer,
            )
            watch.snap = await onboarding.run(watch.snap)
        watch.down_since = None
        watch.logged_out = False
        watch.oldest = None
        if watch.snap.state is State.CONNECTED:
            watch.last_ok = time.time()
        elif watch.snap.state is State.DISCONNECTED:
            log.info("%s: %s", watch.snap.name, watch.snap.incident)


def _not_before(last: float | None, count: int, backoff: float) -> float:
    """When the next try may go, after ``count`` tries in a row, the latest at ``last``."""
    if last is None or count == 0:
        return 0.0
    return last + backoff * 2.0 ** (count - 1)
