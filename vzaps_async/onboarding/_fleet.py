"""`Fleet`: many onboardings in one task group, with shared limits, events and a final report."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import anyio
import attrs
from anyio.streams.memory import MemoryObjectSendStream

from vzaps_async import _validate as validate
from vzaps_async._limits import RateLimiter, Slots
from vzaps_async._secret import url_repr
from vzaps_async.errors import InputError, JournalError, LeaseLostError
from vzaps_async.models.instances import InstanceInfo

from ._driver import Gates, Onboarding, OnboardingOptions, Transition
from ._ports import OnboardingClient
from ._presenters_base import NullPresenter, Presenter
from ._state import PairingMethod, Snapshot, State
from ._store import Journal, Work

__all__ = ["Failure", "Fleet", "FleetOptions", "FleetReport", "InstanceSpec"]


_NO_OPTIONS: Mapping[str, Any] = MappingProxyType({})


def _phone(value: object) -> str | None:
    return None if value is None else validate.phone(value)


def _options_repr(options: Mapping[str, Any]) -> str:
    # A webhook URL carries the receiver's shared secret in its path or query.
    shown = {k: url_repr(v) if k == "webhook" else repr(v) for k, v in options.items()}
    return "{" + ", ".join(f"{k!r}: {v}" for k, v in shown.items()) + "}"


@attrs.frozen
class InstanceSpec:
    """One instance a fleet should bring to CONNECTED.

    Every field is checked here, by the same checks the client applies to the calls it will
    make, so a spec that would fail later is refused before anything is created or billed.

    Args:
        name: Instance name (3-255 characters), unique within the fleet; the journal key.
        phone: Phone number (country code + digits; ``+``, spaces and dashes are removed),
            needed for ``method="pair_code"``.
        method: ``"qr"`` or ``"pair_code"``.
        create_options: Extra create arguments (``webhook``, ``events``, ``reject_calls``,
            ``auto_read_messages``, ``labels``).
    """

    name: str = attrs.field(converter=validate.instance_name)
    phone: str | None = attrs.field(default=None, converter=_phone)
    method: PairingMethod = "qr"
    # One shared read-only empty mapping rather than a dict per spec, which a fleet of tens of
    # thousands of specs would keep alive for the whole run.
    create_options: Mapping[str, Any] = attrs.field(default=_NO_OPTIONS, repr=_options_repr)

    def __attrs_post_init__(self) -> None:
        if self.method not in ("qr", "pair_code"):
            raise InputError("method", f"must be 'qr' or 'pair_code', got {self.method!r}")
        if self.method == "pair_code" and not self.phone:
            raise InputError("phone", f"{self.name}: the pair_code method needs a phone number")
        if self.create_options:
            validate.create_options(self.create_options)


def _at_least_one(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    # Zero would start no worker (or block every request) and end the run with nothing done.
    if value < 1:
        raise InputError(attribute.name, f"must be at least 1, got {value!r}")


@attrs.frozen
class FleetOptions:
    """Limits and behaviour of a fleet.

    Args:
        create_concurrency: Create calls in flight at most.
        subscribe_concurrency: Subscribe calls in flight at most.
        poll_concurrency: Pairing polls in flight at most.
        max_in_flight: Onboardings running at once; the rest wait their turn (keeps memory flat
            for fleets of tens of thousands).
        requests_per_second: Optional rate limit over every request of the fleet.
        reconcile_inventory: Read the account's instances once at the start of every run (one
            paged list: a request per 100 instances) and adopt any spec's name found there, so
            a lost, partial or wrong journal never creates an instance again. Turn it off only
            when the journal is known to be complete and the account large.
        onboarding: Per-instance options (timeouts, deadline, polling).
    """

    create_concurrency: int = attrs.field(default=8, validator=_at_least_one)
    subscribe_concurrency: int = attrs.field(default=8, validator=_at_least_one)
    poll_concurrency: int = attrs.field(default=64, validator=_at_least_one)
    max_in_flight: int = attrs.field(default=1000, validator=_at_least_one)
    requests_per_second: float | None = None
    reconcile_inventory: bool = True
    onboarding: OnboardingOptions = attrs.field(factory=OnboardingOptions)


@attrs.frozen
class Failure:
    """An instance that did not connect.

    Args:
        name: Instance name.
        state: Its final state.
        reason: Why (FAILED), or what it was doing when stopped.
    """

    name: str
    state: State
    reason: str


@attrs.frozen
class FleetReport:
    """The outcome of `Fleet.run`.

    Args:
        total: Instances in the fleet.
        counts: Instances per final state.
        failures: Every instance that did not end CONNECTED, with a reason.
        elapsed: Seconds the run took.
        time_to_connected: Sorted seconds from planning to connection, per connected instance.
        cooldowns: Times a 429 paused the fleet.
        job: Instances per state in the whole job, when the journal is a job shared by several
            workers (the other fields then tell what this worker did); None otherwise.
        lost: Instances this worker stopped because their lease was lost (another worker
            carries on with them; they are not in ``counts``).
    """

    total: int
    counts: Mapping[State, int]
    failures: tuple[Failure, ...]
    elapsed: float
    time_to_connected: tuple[float, ...] = ()
    cooldowns: int = 0
    job: Mapping[State, int] | None = None
    lost: int = 0

    @property
    def all_connected(self) -> bool:
        """True when every instance ended CONNECTED (every instance of the job, when shared)."""
        if self.job is not None:
            return self.job.get(State.CONNECTED, 0) == sum(self.job.values())
        return self.counts.get(State.CONNECTED, 0) == self.total

    def percentile(self, q: float) -> float | None:
        """Time to connected at percentile ``q`` (0-100), nearest rank; None if none connected.

        Args:
            q: The percentile.
        """
        values = self.time_to_connected
        if not values:
            return None
        rank = max(1, math.ceil(q / 100 * len(values)))
        return values[min(rank, len(values)) - 1]

    @property
    def p50(self) -> float | None:
        """Median time to connected, in seconds."""
        return self.percentile(50)

    @property
    def p95(self) -> float | None:
        """95th percentile time to connected, in seconds."""
        return self.percentile(95)


def _first_leaf(group: BaseExceptionGroup[JournalError]) -> JournalError:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


class Fleet:
    """Onboards many instances concurrently, resuming any that the journal already knows.

    Args:
        client: A `vzaps_async.Client`.
        journal: Snapshot storage; specs whose name it holds resume from their snapshot.
        specs: The instances to onboard (names must be unique).
        options: Limits and per-instance behaviour.
        presenter: Shows QR codes and pair codes.

    Example::

        async with SQLiteJournal("fleet.db") as journal:
            fleet = Fleet(client, journal, [InstanceSpec(f"shop-{i:03}") for i in range(100)])
            report = await fleet.run()
    """

    def __init__(
        self,
        client: OnboardingClient,
        journal: Journal,
        specs: Iterable[InstanceSpec],
        *,
        options: FleetOptions | None = None,
        presenter: Presenter | None = None,
    ) -> None:
        self._client = client
        self._journal = journal
        self._specs = tuple(specs)
        seen: set[str] = set()
        for spec in self._specs:
            if spec.name in seen:
                raise InputError("specs", f"instance name {spec.name!r} appears twice")
            seen.add(spec.name)
        self._options = options or FleetOptions()
        self._presenter: Presenter = presenter or NullPresenter()
        opts = self._options
        self.gates = Gates(
            create=Slots(opts.create_concurrency),
            subscribe=Slots(opts.subscribe_concurrency),
            poll=Slots(opts.poll_concurrency),
            # One 429 gate for everything that talks through the client: a 429 seen by any
            # caller pauses the fleet, and the fleet's own pauses hold back the client's callers.
            cooldown=client.transport.cooldown,
            rate=RateLimiter(opts.requests_per_second) if opts.requests_per_second else None,
        )
        # Instances not running, by state; running ones are counted from `_live` when asked, so
        # no transition has to report to the fleet (see `counts`).
        self._counts: Counter[State] = Counter()
        # Each running onboarding, with the state `_counts` still counts it in.
        self._live: dict[Onboarding, State] = {}
        self._subscribers: list[MemoryObjectSendStream[Transition]] = []
        self._failures: list[Failure] = []
        self._durations: list[float] = []
        self._lost = 0
        self._running = False

    @property
    def specs(self) -> tuple[InstanceSpec, ...]:
        """The fleet's instances."""
        return self._specs

    @property
    def counts(self) -> Mapping[State, int]:
        """Live number of instances per state (instances not started count as their journaled
        state, or PLANNED)."""
        counts = Counter(self._counts)
        for onboarding, counted in self._live.items():
            snapshot = onboarding.snapshot
            if snapshot is not None and snapshot.state is not counted:
                counts[counted] -= 1
                counts[snapshot.state] += 1
        return dict(counts)

    def events(self, buffer: int = 1024) -> AsyncIterator[Transition]:
        """Return an async iterator over every transition of the run; it ends when `run` ends.

        Call it before (or while) `run` runs and consume it in another task: a full buffer makes
        the onboardings wait for the consumer rather than drop events.

        Args:
            buffer: Transitions buffered before onboardings wait.
        """
        send, receive = anyio.create_memory_object_stream[Transition](buffer)
        self._subscribers.append(send)
        # Onboardings are only given the observer while someone listens (it costs an object and
        # an await per transition); those already running start reporting now.
        for onboarding in self._live:
            onboarding.observer = self._observe

        async def iterate() -> AsyncIterator[Transition]:
            async with receive:
                async for item in receive:
                    yield item

        return iterate()

    async def _observe(self, item: Transition) -> None:
        for send in list(self._subscribers):
            try:
                await send.send(item)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._subscribers.remove(send)

    async def run(self) -> FleetReport:
        """Onboard every spec; return the report once each is CONNECTED, FAILED or CANCELLED.

        Cancelling the caller (Ctrl-C) stops every onboarding; each journaled snapshot stays
        valid, and running a fleet with the same journal and specs continues from them.

        Raises:
            JournalError: The journal could not be read or written; every onboarding was
                stopped, and what was saved before stays valid for the next run.
        """
        if self._running:
            raise RuntimeError("this fleet is already running")
        self._running = True
        started = time.monotonic()
        job: Mapping[State, int] | None = None
        try:
            # The journal says what to onboard: a local one every spec; a shared job the
            # instances this worker claims, each under a lease.
            async with self._journal.work(self._specs, self.gates) as work:
                inventory = await self._inventory(await work.uncreated())
                # A run cancelled earlier may have left onboardings here; this run counts afresh.
                self._live.clear()
                self._counts = work.counts
                self._lost = 0
                # A fixed pool of workers sharing one source keeps max_in_flight onboardings
                # running, without a task and a semaphore round-trip per instance.
                try:
                    async with anyio.create_task_group() as tg:
                        for _ in range(min(self._options.max_in_flight, work.size)):
                            tg.start_soon(self._work, work, inventory)
                except BaseExceptionGroup as group:
                    # A journal that fails stops every onboarding; say so with the journal's own
                    # error rather than a group of one per worker.
                    journal_errors = group.subgroup(JournalError)
                    if journal_errors is None or group.split(JournalError)[1] is not None:
                        raise
                    raise _first_leaf(journal_errors) from group
                job = await work.job_counts()
        finally:
            for send in self._subscribers:
                send.close()
            self._subscribers.clear()
            self._running = False
        return FleetReport(
            total=sum(self._counts.values()),
            counts={state: n for state, n in self._counts.items() if n},
            failures=tuple(self._failures),
            elapsed=time.monotonic() - started,
            time_to_connected=tuple(sorted(self._durations)),
            cooldowns=self.gates.cooldown.pauses,
            job=job,
            lost=self._lost,
        )

    async def _inventory(self, wanted: set[str]) -> dict[str, tuple[InstanceInfo, ...]]:
        """The server's instances for every name that may still create (see `Work.uncreated`)."""
        if not self._options.reconcile_inventory or not wanted:
            return {}
        found: dict[str, tuple[InstanceInfo, ...]] = dict.fromkeys(wanted, ())
        async for info in self._client.instances.iter(page_size=100):
            if info.name in found:
                found[info.name] += (info,)
        return found

    async def _work(self, work: Work, inventory: dict[str, tuple[InstanceInfo, ...]]) -> None:
        # Each instance runs inline here rather than in a helper coroutine: one frame fewer for
        # every resumption.
        while (claim := await work.claim()) is not None:
            spec = claim.spec
            snapshot = claim.snapshot
            options = self._options.onboarding
            if spec.create_options:
                options = attrs.evolve(options, create_options=spec.create_options)
            listed = inventory.pop(spec.name, None)
            if snapshot is not None and snapshot.intent == "create":
                # A pending create is looked up by name when it is reconciled: the inventory may
                # be older than that create (made by another worker of a shared job).
                listed = None
            onboarding = Onboarding(
                self._client,
                self._journal,
                spec.name,
                phone=spec.phone,
                method=spec.method,
                options=options,
                gates=self.gates,
                presenter=self._presenter,
                observer=self._observe if self._subscribers else None,
                inventory=listed,
            )
            counted = snapshot.state if snapshot is not None else State.PLANNED
            self._live[onboarding] = counted
            # The claim carries the journal's record: no lookup per new instance.
            start = snapshot if snapshot is not None else onboarding.plan()
            lease = claim.lease
            if lease is None:
                final: Snapshot | None = await onboarding.run(start)
            else:
                final = await _run_leased(onboarding, start, lease)
            del self._live[onboarding]
            self._counts[counted] -= 1
            await work.release(claim, final)
            if final is None:
                self._lost += 1
                continue
            self._counts[final.state] += 1
            if final.state is State.CONNECTED:
                if final.connected_at is not None:
                    self._durations.append(max(0.0, final.connected_at - final.planned_at))
                continue
            reason = final.failure or f"stopped in state {final.state.value}"
            if final.intent is not None and not final.terminal:
                reason += f" with the outcome of a {final.intent} unknown (run again to reconcile)"
            self._failures.append(Failure(spec.name, final.state, reason))


async def _run_leased(
    onboarding: Onboarding, snapshot: Snapshot, lease: anyio.CancelScope
) -> Snapshot | None:
    """Run an onboarding inside its lease; None when the lease was lost (the run stopped)."""
    try:
        with lease:
            return await onboarding.run(snapshot)
    except LeaseLostError:
        # A refused write: the journal cancelled the lease too, nothing more runs for it.
        pass
    return None
