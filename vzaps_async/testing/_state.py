"""In-memory state of the simulator: accounts, JWTs, instances, billing and pairing.

Everything time-dependent (JWT expiry, QR rotation, scheduled cancellations, simulated phones) is
computed lazily from timestamps read through ``SimState.clock`` when an instance is looked at, so
that ten thousand instances cost no background tasks. Tests inject a `ManualClock` to move time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import secrets
import string
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

import attrs
from aiohttp import web

from ._counters import Counters
from ._faults import Faults
from ._http import SimError
from ._phones import PhonePolicy
from ._resources_store import ResourceStore

__all__ = [
    "EVENT_NAMES",
    "STATE_KEY",
    "Account",
    "EventSink",
    "ManualClock",
    "Pairing",
    "SimInstance",
    "SimState",
    "SimulatorConfig",
    "rfc3339",
]

#: Event type names the contract accepts in ``events_subscribe`` (§4.2).
EVENT_NAMES: frozenset[str] = frozenset(
    {
        "All",
        "Connected",
        "Disconnected",
        "Message",
        "ReadReceipt",
        "Presence",
        "HistorySync",
        "ChatPresence",
        "GroupParticipantsAdd",
        "GroupParticipantsRemove",
    }
)

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_PHONE_RE = re.compile(r"^[0-9]{8,15}$")

CardState = Literal["ok", "none", "declined"]


def rfc3339(timestamp: float | None) -> str | None:
    """Format an epoch timestamp as RFC 3339 UTC with a ``Z`` suffix (``None`` stays ``None``).

    Args:
        timestamp: Seconds since the epoch.
    """
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_upper(length: int) -> str:
    return "".join(secrets.choice(_UPPER_ALNUM) for _ in range(length))


@attrs.frozen
class SimulatorConfig:
    """Behaviour of the simulator where the contract leaves a choice open (all configurable).

    Args:
        jwt_lifetime: Seconds a JWT from ``POST /token`` stays valid (``expires_in``).
        first_qr_seconds: Lifetime of the first QR code of a pairing attempt.
        qr_seconds: Lifetime of every later QR code.
        max_qr_attempts: QR codes shown before the worker gives up (the next ``session/qr``
            starts a new pairing).
        worker_start_seconds: While the worker starts, ``session/qr`` answers
            ``{"status": "starting"}`` without a QR (0 = a QR right away).
        pair_code_seconds: Lifetime of a phone pair code.
        expose_token_in_list: Return the instance ``token`` in list/get/update answers too.
        subscribe_without_card: ``"error"`` answers 402 ``NO_PAYMENT_METHOD``; ``"checkout"``
            answers ``mode: "checkout"`` with a hosted-payment ``url``.
        no_card_status: HTTP status of the ``NO_PAYMENT_METHOD`` error.
        declined_status: HTTP status of the ``PAYMENT_REQUIRED`` error (declined card).
        cancel_subscribed: What cancel does to a subscribed instance: ``"scheduled"`` sets
            ``cancel_at`` to the end of the billing period, ``"immediate"`` cancels now.
        cancel_trialing: The same for an instance that never subscribed.
        billing_period_seconds: Length of a billing period.
        trial_seconds: Length of the trial that starts at creation.
        require_subscription_for_pairing: Refuse ``session/qr``/``paircode`` with 402 unless the
            instance is ``ACTIVE``.
        jwt_only_refusal_status: Status for instance-token credentials on a JWT-only route
            (401: the route's only accepted credential, a JWT, is missing).
        rate_limit_per_second: Per-token request rate (token bucket); ``None`` = unlimited.
        rate_limit_burst: Bucket size of that rate limit.
        retry_after_seconds: ``Retry-After`` sent with 429 answers.
        require_connected_for_sends: Refuse sends and message actions with 409 ``NOT_CONNECTED``
            while the instance's WhatsApp session is not connected.
        app_url: Base of the dashboard URL in the instance ``url`` field.
        strict: Accept only the documented form of each request (field names, types, required
            fields, query parameters, the JSON Content-Type) and answer anything else with 400
            ``VALIDATION_ERROR`` naming the field (see `_contract`). Off: the other forms the
            official SDKs send are read too, and each deviation is recorded at
            ``GET /__sim/contract``.
        webhook_reads: Which webhook-set body the server reads: ``"any"`` (every form SDKs
            send), or only ``"webhookURL"`` (the API reference) or ``"webhook_url"`` (the Go,
            TypeScript, .NET and Java SDKs); a body in the other form is then answered 200 and
            silently stores nothing, as a server decoding into a fixed struct would.
    """

    jwt_lifetime: float = 3600.0
    first_qr_seconds: float = 60.0
    qr_seconds: float = 20.0
    max_qr_attempts: int = 6
    worker_start_seconds: float = 0.0
    pair_code_seconds: float = 180.0
    expose_token_in_list: bool = True
    subscribe_without_card: Literal["error", "checkout"] = "error"
    no_card_status: int = 402
    declined_status: int = 402
    cancel_subscribed: Literal["scheduled", "immediate"] = "scheduled"
    cancel_trialing: Literal["scheduled", "immediate"] = "immediate"
    billing_period_seconds: float = 30 * 86400.0
    trial_seconds: float = 7 * 86400.0
    require_subscription_for_pairing: bool = False
    jwt_only_refusal_status: int = 401
    rate_limit_per_second: float | None = None
    rate_limit_burst: int = 10
    retry_after_seconds: int = 1
    require_connected_for_sends: bool = False
    app_url: str = "https://app.vzaps.com"
    strict: bool = False
    webhook_reads: Literal["any", "webhookURL", "webhook_url"] = "any"


class ManualClock:
    """A clock for tests: time moves only when `advance` is called.

    Args:
        start: Initial epoch seconds.
    """

    def __init__(self, start: float = 1_776_074_400.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        Args:
            seconds: How far.
        """
        self.now += seconds


class EventSink(Protocol):
    """What the event module installs as ``SimState.events``."""

    def publish(
        self,
        instance: SimInstance,
        event_type: str,
        event: dict[str, Any],
        *,
        data_extra: dict[str, Any] | None = None,
    ) -> None:
        """Deliver one event of an instance (webhook, realtime, logs)."""


@attrs.define(eq=False)
class Account:
    """A customer account.

    Args:
        id: Internal account id.
        client_token: Public account token (``X-Client-Token``, ``POST /token``).
        client_secret: Account secret for ``POST /token``.
        card: Default payment card: ``"ok"``, ``"none"`` or ``"declined"``.
    """

    id: str
    client_token: str = attrs.field(repr=False)
    client_secret: str = attrs.field(repr=False)
    card: CardState = "ok"


@attrs.define(eq=False)
class Pairing:
    """One run of the pairing worker: rotating QR codes and an optional pair code.

    Times are epoch seconds from the state clock. QR attempt ``i`` (0-based) is visible from
    `attempt_start` to `attempt_end`; references are made on first need.

    Args:
        started_at: When the worker flow started (first ``session/qr`` or ``paircode``).
    """

    started_at: float
    references: dict[int, str] = attrs.field(factory=dict)
    pair_code: str | None = None
    pair_code_phone: str | None = None
    pair_code_issued_at: float | None = None
    pair_code_expires_at: float | None = None

    def reference(self, attempt: int) -> str:
        """The QR reference string of an attempt (made on first use).

        Args:
            attempt: 0-based attempt index.
        """
        ref = self.references.get(attempt)
        if ref is None:
            ref = "2@" + secrets.token_urlsafe(24) + f",{attempt}"
            self.references[attempt] = ref
        return ref


@attrs.define(eq=False)
class SimInstance:
    """One instance on the server.

    ``checkout_session`` is the open checkout of a subscribe call (``None`` when none is open);
    ``resources`` holds the resource routes' state (messages, queues, chats, groups,
    integrations), created on first use by `_resources_common.store_of`.
    """

    id: str
    name: str
    token: str = attrs.field(repr=False)
    account: Account
    created_at: float
    updated_at: float
    webhook_url: str = ""
    events_subscribe: list[str] = attrs.field(factory=list)
    reject_calls: bool = False
    auto_read_messages: bool = False
    labels: dict[str, Any] = attrs.field(factory=dict)
    billing_status: str = "TRIALING"
    subscription_id: str | None = None
    subscribed: bool = False
    current_period_end: float | None = None
    cancel_at: float | None = None
    expired_at: float | None = None
    status: str = "created"
    connected: bool | None = None
    connected_at: float | None = None
    phone: str | None = None
    push_name: str | None = None
    profile: dict[str, Any] = attrs.field(factory=dict)
    pairing: Pairing | None = None
    scan_timer: asyncio.TimerHandle | None = attrs.field(default=None, repr=False)
    #: A dropped session comes back on its own at this moment (`SimState.drop`).
    drop_until: float | None = None
    #: ``"restart"`` or ``"repair"``: the session says connected but delivers nothing until
    #: that cures it (`SimState.make_zombie`).
    zombie: Literal["restart", "repair"] | None = None
    #: When the phone policy's random trouble was last drawn for this connected instance.
    trouble_checked_at: float | None = None
    checkout_session: str | None = None
    resources: ResourceStore | None = attrs.field(default=None, repr=False)

    @property
    def delivering(self) -> bool:
        """Whether queued sends go out: connected, and not a zombie."""
        return bool(self.connected) and self.zombie is None

    @property
    def whatsapp_jid(self) -> str | None:
        """The connected account's JID, ``<phone>@s.whatsapp.net``."""
        return f"{self.phone}@s.whatsapp.net" if self.phone else None

    @property
    def events_subscribe_text(self) -> str:
        """``events_subscribe`` as the contract's comma-joined string."""
        return ",".join(self.events_subscribe)


@attrs.define(eq=False)
class SimState:
    """Everything the simulator knows, shared by all route modules.

    Args:
        config: Behaviour settings.
        phones: How simulated phones react to QR codes and pair codes.
        faults: Fault-injection rules.
        clock: Epoch-seconds clock (``time.time`` by default; a `ManualClock` in tests).
    """

    config: SimulatorConfig = attrs.field(factory=SimulatorConfig)
    phones: PhonePolicy = attrs.field(factory=PhonePolicy.manual)
    faults: Faults = attrs.field(factory=Faults)
    clock: Callable[[], float] = time.time
    counters: Counters = attrs.field(factory=Counters)
    #: Random source of the phones' fleet-wide trouble.
    rng: random.Random = attrs.field(factory=random.Random)
    accounts: dict[str, Account] = attrs.field(factory=dict)
    instances: dict[str, SimInstance] = attrs.field(factory=dict)
    #: JWT -> (account, expires_at)
    jwts: dict[str, tuple[Account, float]] = attrs.field(factory=dict, repr=False)
    #: Set by the events module's ``setup``; receives every event through `publish`.
    events: EventSink | None = None
    _by_client_token: dict[str, Account] = attrs.field(factory=dict, repr=False)
    _by_instance_token: dict[str, SimInstance] = attrs.field(factory=dict, repr=False)
    _by_name: dict[tuple[str, str], list[str]] = attrs.field(factory=dict, repr=False)

    # ----------------------------------------------------------------- events

    def publish(
        self,
        instance: SimInstance,
        event_type: str,
        event: dict[str, Any],
        *,
        data_extra: dict[str, Any] | None = None,
    ) -> None:
        """Hand an event of an instance to the event module, if one is installed.

        Args:
            instance: The instance the event belongs to.
            event_type: Contract event name (``Connected``, ``Disconnected``, ``Message``, ...).
            event: The inner event payload (``data.event`` on the wire).
            data_extra: Fields that sit beside ``event`` in ``data`` (a receipt's ``state``).
        """
        if self.events is not None:
            self.events.publish(instance, event_type, event, data_extra=data_extra)

    # --------------------------------------------------------------- accounts

    def add_account(
        self,
        *,
        card: CardState = "ok",
        client_token: str | None = None,
        client_secret: str | None = None,
    ) -> Account:
        """Create an account (random credentials unless given).

        Args:
            card: Default payment card state.
            client_token: Public account token.
            client_secret: Account secret.
        """
        token = client_token or "ct_" + secrets.token_hex(12)
        if token in self._by_client_token:
            raise ValueError("an account with this client_token already exists")
        account = Account(
            id="acc_" + secrets.token_hex(6),
            client_token=token,
            client_secret=client_secret or "cs_" + secrets.token_hex(20),
            card=card,
        )
        self.accounts[account.id] = account
        self._by_client_token[token] = account
        return account

    def account_by_client_token(self, client_token: str) -> Account | None:
        """The account owning a client token, if any.

        Args:
            client_token: Public account token.
        """
        return self._by_client_token.get(client_token)

    # ------------------------------------------------------------------- JWTs

    def issue_jwt(self, account: Account) -> tuple[str, float]:
        """Make an opaque bearer token for an account; returns ``(token, lifetime_seconds)``.

        Args:
            account: The account.
        """
        token = "sim." + secrets.token_urlsafe(32)
        lifetime = self.config.jwt_lifetime
        self.jwts[token] = (account, self.clock() + lifetime)
        return token, lifetime

    def account_for_jwt(self, token: str) -> Account:
        """The account of a valid JWT, or a 401 `SimError` (unknown or expired).

        Args:
            token: The bearer token.
        """
        entry = self.jwts.get(token)
        if entry is None:
            raise SimError(401, "UNAUTHORIZED", "invalid access token")
        account, expires_at = entry
        if self.clock() >= expires_at:
            raise SimError(401, "UNAUTHORIZED", "access token expired")
        return account

    def expire_jwts(self) -> int:
        """Expire every JWT now; returns how many were valid.

        The tokens stay known so that their use answers "expired" rather than "invalid".
        """
        now = self.clock()
        count = 0
        for token, (account, expires_at) in self.jwts.items():
            if expires_at > now:
                count += 1
            self.jwts[token] = (account, min(expires_at, now))
        return count

    # -------------------------------------------------------------- instances

    def create_instance(
        self,
        account: Account,
        name: str,
        *,
        webhook_url: str = "",
        events_subscribe: list[str] | None = None,
        reject_calls: bool = False,
        auto_read_messages: bool = False,
        labels: dict[str, Any] | None = None,
    ) -> SimInstance:
        """Create an instance (TRIALING, never connected).

        Args:
            account: Owner.
            name: Instance name (validated by the route).
            webhook_url: Webhook URL.
            events_subscribe: Subscribed event names.
            reject_calls: Reject incoming calls.
            auto_read_messages: Mark incoming messages read.
            labels: Free labels.
        """
        now = self.clock()
        instance_id = "VZ" + _random_upper(26)
        while instance_id in self.instances:
            instance_id = "VZ" + _random_upper(26)
        instance = SimInstance(
            id=instance_id,
            name=name,
            token="inst_" + secrets.token_urlsafe(18),
            account=account,
            created_at=now,
            updated_at=now,
            webhook_url=webhook_url,
            events_subscribe=list(events_subscribe or []),
            reject_calls=reject_calls,
            auto_read_messages=auto_read_messages,
            labels=dict(labels or {}),
            current_period_end=now + self.config.trial_seconds,
        )
        self.instances[instance.id] = instance
        self._by_instance_token[instance.token] = instance
        self._by_name.setdefault((account.id, name), []).append(instance.id)
        self.counters.instance_created(name)
        return instance

    def rename_instance(self, instance: SimInstance, name: str) -> None:
        """Change an instance's name, keeping the name index right.

        Args:
            instance: The instance.
            name: New name.
        """
        ids = self._by_name.get((instance.account.id, instance.name), [])
        if instance.id in ids:
            ids.remove(instance.id)
        instance.name = name
        self._by_name.setdefault((instance.account.id, name), []).append(instance.id)

    def delete_instance(self, instance: SimInstance) -> None:
        """Remove an instance and its indexes.

        Args:
            instance: The instance.
        """
        if instance.scan_timer is not None:
            instance.scan_timer.cancel()
            instance.scan_timer = None
        self.instances.pop(instance.id, None)
        self._by_instance_token.pop(instance.token, None)
        ids = self._by_name.get((instance.account.id, instance.name), [])
        if instance.id in ids:
            ids.remove(instance.id)

    def instances_named(self, account: Account, name: str) -> list[SimInstance]:
        """The account's instances with exactly this name, oldest first.

        Args:
            account: Owner.
            name: Instance name.
        """
        ids = self._by_name.get((account.id, name), [])
        return [self.instances[i] for i in ids if i in self.instances]

    def instance_by_token(self, token: str) -> SimInstance | None:
        """The instance owning an instance token, if any.

        Args:
            token: Instance token.
        """
        return self._by_instance_token.get(token)

    def get_instance(self, instance_id: str) -> SimInstance:
        """An instance, brought up to date with the clock, or a 404 `SimError`.

        Args:
            instance_id: Instance id.
        """
        instance = self.instances.get(instance_id)
        if instance is None:
            raise SimError(404, "INSTANCE_NOT_FOUND", "instance not found")
        self.refresh(instance)
        return instance

    def account_instances(self, account: Account) -> Iterator[SimInstance]:
        """The account's instances, refreshed, in creation order.

        Args:
            account: Owner.
        """
        for instance in list(self.instances.values()):
            if instance.account is account:
                self.refresh(instance)
                yield instance

    # ------------------------------------------------------------ lazy clock

    def refresh(self, instance: SimInstance) -> None:
        """Apply everything that became due since the instance was last looked at.

        Scheduled cancellations take effect, dropped sessions come back, simulated phones
        misbehave (the policy's trouble rates), scan or type codes that are due, and a pairing
        whose last QR expired is given up.

        Args:
            instance: The instance.
        """
        now = self.clock()
        if instance.cancel_at is not None and now >= instance.cancel_at:
            self._expire(instance, instance.cancel_at)
        if instance.drop_until is not None and now >= instance.drop_until:
            instance.drop_until = None
            if not instance.connected and instance.pairing is None:
                self._reconnect(instance, now)
        if self.phones.troubled:
            if instance.connected and instance.zombie is None:
                self._random_trouble(instance, now)
            else:
                instance.trouble_checked_at = None  # only connected time counts
        pairing = instance.pairing
        if pairing is None or instance.connected:
            return
        due = self._phone_due(pairing)
        if due is not None and due[0] <= now:
            self._connect(instance, phone=pairing.pair_code_phone if due[1] else None)
            return
        code_valid = pairing.pair_code_expires_at is not None and now < pairing.pair_code_expires_at
        if now >= self.pairing_deadline(pairing) and not code_valid:
            self._give_up(instance)

    def _phone_due(self, pairing: Pairing) -> tuple[float, bool] | None:
        """When the simulated phone completes pairing and whether by pair code (or never)."""
        best: tuple[float, bool] | None = None
        qr_due = self.phones.qr_scan_time(pairing.started_at, self._qr_window)
        if qr_due is not None and qr_due < self.pairing_deadline(pairing):
            best = (qr_due, False)
        code_due = self.phones.code_entry_time(pairing.pair_code_issued_at)
        expires = pairing.pair_code_expires_at
        code_in_time = code_due is not None and expires is not None and code_due < expires
        if code_due is not None and code_in_time and (best is None or code_due <= best[0]):
            best = (code_due, True)
        return best

    def _qr_window(self, attempt: int) -> tuple[float, float]:
        """Offsets (from the worker start) when QR ``attempt`` appears and expires."""
        cfg = self.config
        start = cfg.worker_start_seconds
        if attempt == 0:
            return start, start + cfg.first_qr_seconds
        begin = start + cfg.first_qr_seconds + (attempt - 1) * cfg.qr_seconds
        return begin, begin + cfg.qr_seconds

    def pairing_deadline(self, pairing: Pairing) -> float:
        """When the last QR of a pairing run expires.

        Args:
            pairing: The pairing run.
        """
        return pairing.started_at + self._qr_window(self.config.max_qr_attempts - 1)[1]

    def current_qr(self, pairing: Pairing) -> tuple[int, float] | None:
        """``(attempt, expires_at)`` of the QR visible now, or ``None`` (still starting/over).

        Args:
            pairing: The pairing run.
        """
        offset = self.clock() - pairing.started_at
        if offset < self.config.worker_start_seconds:
            return None
        for attempt in range(self.config.max_qr_attempts):
            begin, end = self._qr_window(attempt)
            if begin <= offset < end:
                return attempt, pairing.started_at + end
        return None

    # ---------------------------------------------------------------- pairing

    def start_pairing(self, instance: SimInstance) -> Pairing:
        """Start the pairing worker unless one is running; returns the running one.

        Args:
            instance: The instance.
        """
        if instance.pairing is not None:
            return instance.pairing
        pairing = Pairing(started_at=self.clock())
        instance.pairing = pairing
        instance.status = "pairing"
        instance.connected = False if instance.connected is None else instance.connected
        instance.updated_at = pairing.started_at
        self._schedule_phone(instance)
        return pairing

    def issue_pair_code(self, instance: SimInstance, phone: str) -> str:
        """Make a pair code for a phone number (starting the worker if needed).

        Args:
            instance: The instance.
            phone: Digits with country code.
        """
        if not _PHONE_RE.match(phone):
            raise SimError(
                400, "VALIDATION_ERROR", "phone: must be 8-15 digits with country code, no '+'"
            )
        pairing = self.start_pairing(instance)
        now = self.clock()
        raw = _random_upper(8)
        pairing.pair_code = f"{raw[:4]}-{raw[4:]}"
        pairing.pair_code_phone = phone
        pairing.pair_code_issued_at = now
        pairing.pair_code_expires_at = now + self.config.pair_code_seconds
        self._schedule_phone(instance)
        return pairing.pair_code

    def scan(self, instance: SimInstance, reference: str | None = None) -> None:
        """A phone scans the instance's QR code: pairs, or raises a 409 `SimError`.

        Args:
            instance: The instance.
            reference: The reference the phone read; ``None`` = the one visible now. Any other
                reference (an expired QR) does not pair.
        """
        self.refresh(instance)
        pairing = self._require_pairing(instance)
        current = self.current_qr(pairing)
        if current is None:
            raise SimError(409, "NO_QR", "no QR code is being shown")
        if reference is not None and reference != pairing.reference(current[0]):
            raise SimError(409, "QR_EXPIRED", "this QR code is not the current one")
        self._connect(instance, phone=None)

    def enter_pair_code(self, instance: SimInstance, code: str | None = None) -> None:
        """A phone types the pair code: pairs, or raises a 409 `SimError`.

        Args:
            instance: The instance.
            code: The typed code; ``None`` = the current one.
        """
        self.refresh(instance)
        pairing = self._require_pairing(instance)
        if pairing.pair_code is None or pairing.pair_code_expires_at is None:
            raise SimError(409, "NO_PAIR_CODE", "no pair code was issued")
        if self.clock() >= pairing.pair_code_expires_at:
            raise SimError(409, "PAIR_CODE_EXPIRED", "the pair code expired")
        if code is not None and code.strip().upper() != pairing.pair_code:
            raise SimError(409, "INVALID_PAIR_CODE", "wrong pair code")
        self._connect(instance, phone=pairing.pair_code_phone)

    def disconnect(self, instance: SimInstance, reason: str = "logout") -> None:
        """Log the WhatsApp session out (publishes ``Disconnected`` if it was connected).

        Args:
            instance: The instance.
            reason: Reason put in the event.
        """
        was_connected = bool(instance.connected)
        self._stop_worker(instance)
        instance.drop_until = None
        instance.zombie = None
        instance.connected = False
        instance.status = "disconnected"
        instance.updated_at = self.clock()
        if was_connected:
            self.publish(instance, "Disconnected", {"reason": reason})

    def logout(self, instance: SimInstance) -> None:
        """The phone unlinks the session: it is gone, and only a new QR or pair code brings it back.

        Args:
            instance: The instance (must be connected).
        """
        self._require_connected(instance)
        self.counters.misbehaved("logouts", instance.id)
        self.disconnect(instance, reason="logout")

    def drop(self, instance: SimInstance, seconds: float) -> None:
        """The session drops (``Disconnected``) and comes back by itself after ``seconds``.

        Args:
            instance: The instance (must be connected).
            seconds: How long the outage lasts.
        """
        if seconds < 0:
            raise SimError(400, "VALIDATION_ERROR", "seconds: must be >= 0")
        self._require_connected(instance)
        now = self.clock()
        instance.connected = False
        instance.status = "disconnected"
        instance.drop_until = now + seconds
        instance.updated_at = now
        self.counters.misbehaved("drops", instance.id)
        self.publish(instance, "Disconnected", {"reason": "connection lost"})
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        # The phone's recovery fires its Connected event on time, not at the next request.
        loop.call_later(seconds, self._on_phone_timer, instance)

    def make_zombie(self, instance: SimInstance, cured_by: Literal["restart", "repair"]) -> None:
        """The session keeps saying connected but delivers nothing and sends no events.

        Args:
            instance: The instance (must be connected).
            cured_by: ``"restart"`` (a runtime restart cures it) or ``"repair"`` (only a
                logout and a new pairing do).
        """
        self._require_connected(instance)
        instance.zombie = cured_by
        self.counters.misbehaved("zombies", instance.id)

    def restart(self, instance: SimInstance) -> None:
        """Restart the instance's runtime: cures a zombie that a restart cures (keeps the session).

        Args:
            instance: The instance.
        """
        self.counters.misbehaved("restarts", instance.id)
        instance.updated_at = self.clock()
        if instance.zombie == "restart":
            instance.zombie = None
            self._announce_connected(instance)

    def _random_trouble(self, instance: SimInstance, now: float) -> None:
        """Apply the phone policy's fleet-wide trouble drawn for the time since the last look."""
        since, instance.trouble_checked_at = instance.trouble_checked_at, now
        if since is None or now <= since:
            return
        kind = self.phones.trouble(now - since, self.rng)
        if kind == "logout":
            self.counters.misbehaved("logouts", instance.id)
            self.disconnect(instance, reason="logout")
        elif kind == "zombie":
            self.make_zombie(instance, "restart")
        elif kind == "drop":
            self.drop(instance, self.phones.drop_seconds)

    def _require_connected(self, instance: SimInstance) -> None:
        self.refresh(instance)
        if not instance.connected:
            raise SimError(409, "NOT_CONNECTED", "instance is not connected to WhatsApp")

    def _reconnect(self, instance: SimInstance, now: float) -> None:
        instance.connected = True
        instance.status = "connected"
        instance.updated_at = now
        self._announce_connected(instance)

    def _announce_connected(self, instance: SimInstance) -> None:
        self.publish(
            instance,
            "Connected",
            {
                "phone": instance.phone,
                "jid": instance.whatsapp_jid,
                "push_name": instance.push_name,
            },
        )

    def _require_pairing(self, instance: SimInstance) -> Pairing:
        if instance.connected:
            raise SimError(409, "ALREADY_CONNECTED", "instance is already connected")
        if instance.pairing is None:
            raise SimError(409, "NOT_PAIRING", "pairing has not started (call session/qr)")
        return instance.pairing

    def _connect(self, instance: SimInstance, *, phone: str | None) -> None:
        now = self.clock()
        self._stop_worker(instance)
        instance.drop_until = None
        instance.zombie = None
        if phone is None:
            phone = instance.phone or "5511" + "".join(
                secrets.choice(string.digits) for _ in range(9)
            )
        instance.phone = phone
        instance.push_name = instance.push_name or instance.name
        instance.connected = True
        instance.connected_at = now
        instance.status = "connected"
        instance.updated_at = now
        self.counters.paired(instance.id)
        self._announce_connected(instance)

    def _give_up(self, instance: SimInstance) -> None:
        self._stop_worker(instance)
        instance.status = "disconnected"
        instance.updated_at = self.clock()

    def _stop_worker(self, instance: SimInstance) -> None:
        instance.pairing = None
        if instance.scan_timer is not None:
            instance.scan_timer.cancel()
            instance.scan_timer = None

    def _schedule_phone(self, instance: SimInstance) -> None:
        """Arm one loop timer for the phone's next action, so events fire without polling."""
        pairing = instance.pairing
        if pairing is None:
            return
        due = self._phone_due(pairing)
        if instance.scan_timer is not None:
            instance.scan_timer.cancel()
            instance.scan_timer = None
        if due is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        delay = max(0.0, due[0] - self.clock())
        instance.scan_timer = loop.call_later(delay, self._on_phone_timer, instance)

    def _on_phone_timer(self, instance: SimInstance) -> None:
        instance.scan_timer = None
        if self.instances.get(instance.id) is instance:
            self.refresh(instance)

    # ---------------------------------------------------------------- billing

    def _expire(self, instance: SimInstance, at: float) -> None:
        instance.billing_status = "CANCELED"
        instance.expired_at = at
        instance.cancel_at = None
        instance.updated_at = at
        if instance.connected:
            self.disconnect(instance, reason="expired")
        self._stop_worker(instance)
        instance.status = "stopped"

    def cancel(self, instance: SimInstance) -> str:
        """Cancel now or at period end (per config); returns the answer's message.

        Args:
            instance: The instance.
        """
        if instance.billing_status == "CANCELED":
            raise SimError(409, "ALREADY_CANCELED", "instance is already canceled")
        mode = self.config.cancel_subscribed if instance.subscribed else self.config.cancel_trialing
        now = self.clock()
        if mode == "immediate" or instance.current_period_end is None:
            self._expire(instance, now)
            return "Instance canceled successfully"
        instance.cancel_at = instance.current_period_end
        instance.updated_at = now
        return f"Instance cancellation scheduled for {rfc3339(instance.cancel_at)}"

    def resume(self, instance: SimInstance) -> None:
        """Clear a scheduled cancellation, or raise 409 when none is scheduled.

        Args:
            instance: The instance.
        """
        if instance.cancel_at is None:
            raise SimError(409, "NO_SCHEDULED_CANCEL", "no cancellation is scheduled")
        instance.cancel_at = None
        instance.updated_at = self.clock()


#: Where the app keeps its `SimState` (``request.app[STATE_KEY]``).
STATE_KEY: web.AppKey[SimState] = web.AppKey("vzaps_sim_state", SimState)
