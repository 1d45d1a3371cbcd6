"""The onboarding state machine: states, events, the transition table, and a pure `transition`.

Nothing here does I/O. The driver (`Onboarding`) performs a step, turns its outcome into an event,
and asks `transition` for the next `Snapshot`; the journal stores snapshots. Keeping the machine
pure means every rule about what may follow what lives in one table (`TRANSITIONS`), which the
docs render as a diagram and the tests explore with Hypothesis.
"""

from __future__ import annotations

import enum
import operator
import time
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

import attrs

from vzaps_async._secret import Secret
from vzaps_async.errors import VZapsError

__all__ = [
    "SUPERVISED_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Cancelled",
    "Connected",
    "CreateIntended",
    "Created",
    "Disconnected",
    "Escalated",
    "Event",
    "Failed",
    "IllegalTransition",
    "IntentCleared",
    "PairCodeShown",
    "PairingAbandoned",
    "PairingMethod",
    "PairingStarted",
    "QRShown",
    "RestartIntended",
    "Restarted",
    "Resumed",
    "Snapshot",
    "Stalled",
    "State",
    "SubscribeIntended",
    "Subscribed",
    "render_ascii",
    "render_mermaid",
    "transition",
]

PairingMethod: TypeAlias = Literal["qr", "pair_code"]
Intent: TypeAlias = Literal["create", "subscribe"]


class State(enum.StrEnum):
    """Where one instance stands on its way from nothing to a connected WhatsApp session."""

    #: Nothing exists on the server yet (a create intent may be journaled, outcome unknown).
    PLANNED = "PLANNED"
    #: The instance exists and its token is journaled; not yet paid for.
    CREATED = "CREATED"
    #: Billing is in place (subscribe succeeded, or the server says it already was).
    SUBSCRIBED = "SUBSCRIBED"
    #: The worker is started and QR codes or a pair code are being shown to a phone.
    PAIRING = "PAIRING"
    #: WhatsApp is linked: the goal. Terminal for the onboarding flow.
    CONNECTED = "CONNECTED"
    #: The session dropped after it was connected; it may come back on its own (supervisor).
    DISCONNECTED = "DISCONNECTED"
    #: The session says connected but does not work (sends stay queued): restart, then re-pair.
    STALLED = "STALLED"
    #: Cancellation was requested (done now, or scheduled for the end of the billing period).
    CANCELLED = "CANCELLED"
    #: A scheduled cancellation was reversed; the flow continues towards CONNECTED.
    RESUMED = "RESUMED"
    #: Gave up, with a reason (billing declined, auth, pairing expired, deadline). Terminal.
    FAILED = "FAILED"


#: The states of an instance that has connected once and that a `Supervisor` looks after.
SUPERVISED_STATES: Final = frozenset(
    {State.CONNECTED, State.DISCONNECTED, State.STALLED, State.PAIRING}
)

#: States from which the driver does no more work on its own (DISCONNECTED and STALLED are the
#: `Supervisor`'s to heal).
TERMINAL_STATES: Final = frozenset(
    {State.CONNECTED, State.DISCONNECTED, State.STALLED, State.FAILED, State.CANCELLED}
)


class IllegalTransition(VZapsError):
    """An event arrived in a state where the table does not allow it.

    Args:
        state: The state the snapshot was in.
        event: The event that was refused.
        why: Extra detail, when a guard (not the table) refused it.
    """

    def __init__(self, state: State, event: Event, why: str = "") -> None:
        self.state = state
        self.event_name = type(event).__name__
        allowed = sorted(e.__name__ for (s, e) in TRANSITIONS if s is state)
        detail = f": {why}" if why else ""
        super().__init__(
            f"illegal transition: {self.event_name} in state {state.value}{detail} "
            f"(allowed in {state.value}: {', '.join(allowed) or 'nothing'})"
        )


# The clock of every event and snapshot (a C function: attrs calls it for each new event).
_now = time.time


# Events. Each carries `at` (epoch seconds) so that `transition` stays a pure function of its
# inputs; the driver stamps it when it observes the outcome.


@attrs.frozen
class CreateIntended:
    """The driver is about to call create (journaled first: create costs money)."""

    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Created:
    """The instance exists: created now, or found by name while reconciling (``adopted``).

    Args:
        instance_id: The server's instance id.
        token: The instance token (only readable in the create response, or the list/get response
            when the server returns it).
        adopted: True when reconciliation found an instance created by an earlier attempt.
    """

    instance_id: str
    token: Secret
    adopted: bool = False
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class IntentCleared:
    """Reconciliation proved a journaled create/subscribe was not applied; it may be retried.

    Args:
        reason: What the server showed.
    """

    reason: str = ""
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class SubscribeIntended:
    """The driver is about to call subscribe (journaled first: subscribe charges the card)."""

    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Subscribed:
    """Billing is in place.

    Args:
        mode: The subscription mode the server answered (``direct``), or ``"existing"`` when the
            server said the instance was already subscribed.
        adopted: True when reconciliation (not this call) established it.
    """

    mode: str = "direct"
    adopted: bool = False
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class PairingStarted:
    """Pairing (re)starts with a method; a restart resets the per-attempt QR count.

    Args:
        method: ``"qr"`` or ``"pair_code"``.
        phone: The phone number to pair (required for ``pair_code``).
    """

    method: PairingMethod = "qr"
    phone: str | None = None
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class QRShown:
    """A new QR code is ready to be scanned (an expired one is simply replaced by the next).

    Args:
        qr_code: The PNG data URL (``data:image/png;base64,...``).
        expires_at: Epoch seconds when it stops being scannable, if the server said.
    """

    qr_code: str = attrs.field(repr=lambda v: f"<{len(v)} chars>")
    expires_at: float | None = None
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class PairCodeShown:
    """A pair code is ready to be typed on the phone.

    Args:
        code: The 8-character code (``XXXX-XXXX``).
        phone: The phone number it is for.
        expires_at: Epoch seconds when it expires.
    """

    code: str
    phone: str
    expires_at: float | None = None
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Connected:
    """WhatsApp is linked.

    Args:
        phone: The linked phone number, when the server says.
    """

    phone: str | None = None
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Disconnected:
    """A connected session dropped (a probe saw it, or a ``Disconnected`` event said so).

    Args:
        reason: What was seen (``"logout"``, ``"status probe"``, the event's reason...).
        last_seen: When the session was last seen connected, if known.
    """

    reason: str = ""
    last_seen: float | None = None
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Stalled:
    """The session reports connected but does not work (messages stay in its queue).

    Args:
        reason: What was seen.
        last_seen: When the session was last seen working, if known.
    """

    reason: str
    last_seen: float | None = None
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class RestartIntended:
    """The supervisor is about to restart a stalled instance's runtime (journaled first, so
    that the restarts sent count against the cap and back off across supervisor runs)."""

    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Restarted:
    """The instance's runtime was restarted (``POST /instances/{id}/restart``) to cure a stall."""

    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class PairingAbandoned:
    """A re-pair ended without a phone linked (its codes expired unscanned, its deadline
    passed, or pairing was refused): back to DISCONNECTED, for the next re-pair.

    Args:
        reason: Why, in words an operator can act on.
    """

    reason: str
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Escalated:
    """The supervisor stopped healing the instance on its own: a person is needed.

    Args:
        reason: What is wrong and what a person can do, in words (never a secret).
    """

    reason: str
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Cancelled:
    """Cancellation was accepted by the server.

    Args:
        message: The server's confirmation text.
    """

    message: str = ""
    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Resumed:
    """A scheduled cancellation was reversed."""

    at: float = attrs.field(factory=_now, kw_only=True)


@attrs.frozen
class Failed:
    """The onboarding gave up.

    Args:
        reason: Why, in words an operator can act on (never contains a secret).
    """

    reason: str
    at: float = attrs.field(factory=_now, kw_only=True)


Event: TypeAlias = (
    CreateIntended
    | Created
    | IntentCleared
    | SubscribeIntended
    | Subscribed
    | PairingStarted
    | QRShown
    | PairCodeShown
    | Connected
    | Disconnected
    | Stalled
    | RestartIntended
    | Restarted
    | PairingAbandoned
    | Escalated
    | Cancelled
    | Resumed
    | Failed
)

_S = State
#: The transition table: (state, event type) -> next state. Anything absent is illegal.
TRANSITIONS: Final[Mapping[tuple[State, type[Event]], State]] = {
    (_S.PLANNED, CreateIntended): _S.PLANNED,
    (_S.PLANNED, IntentCleared): _S.PLANNED,
    (_S.PLANNED, Created): _S.CREATED,
    (_S.PLANNED, Failed): _S.FAILED,
    (_S.CREATED, SubscribeIntended): _S.CREATED,
    (_S.CREATED, IntentCleared): _S.CREATED,
    (_S.CREATED, Subscribed): _S.SUBSCRIBED,
    (_S.CREATED, Cancelled): _S.CANCELLED,
    (_S.CREATED, Failed): _S.FAILED,
    (_S.SUBSCRIBED, PairingStarted): _S.PAIRING,
    (_S.SUBSCRIBED, Connected): _S.CONNECTED,
    (_S.SUBSCRIBED, Cancelled): _S.CANCELLED,
    (_S.SUBSCRIBED, Failed): _S.FAILED,
    (_S.PAIRING, PairingStarted): _S.PAIRING,
    (_S.PAIRING, QRShown): _S.PAIRING,
    (_S.PAIRING, PairCodeShown): _S.PAIRING,
    (_S.PAIRING, Connected): _S.CONNECTED,
    (_S.PAIRING, PairingAbandoned): _S.DISCONNECTED,
    (_S.PAIRING, Cancelled): _S.CANCELLED,
    (_S.PAIRING, Failed): _S.FAILED,
    (_S.CONNECTED, Disconnected): _S.DISCONNECTED,
    (_S.CONNECTED, Stalled): _S.STALLED,
    (_S.CONNECTED, Cancelled): _S.CANCELLED,
    (_S.DISCONNECTED, Connected): _S.CONNECTED,
    (_S.DISCONNECTED, PairingStarted): _S.PAIRING,
    (_S.DISCONNECTED, Escalated): _S.DISCONNECTED,
    (_S.DISCONNECTED, Cancelled): _S.CANCELLED,
    (_S.DISCONNECTED, Failed): _S.FAILED,
    (_S.STALLED, RestartIntended): _S.STALLED,
    (_S.STALLED, Restarted): _S.STALLED,
    (_S.STALLED, Escalated): _S.STALLED,
    (_S.STALLED, Connected): _S.CONNECTED,
    (_S.STALLED, Disconnected): _S.DISCONNECTED,
    (_S.STALLED, PairingStarted): _S.PAIRING,
    (_S.STALLED, Cancelled): _S.CANCELLED,
    (_S.STALLED, Failed): _S.FAILED,
    (_S.CANCELLED, Resumed): _S.RESUMED,
    (_S.CANCELLED, Failed): _S.FAILED,
    (_S.RESUMED, SubscribeIntended): _S.RESUMED,
    (_S.RESUMED, IntentCleared): _S.RESUMED,
    (_S.RESUMED, Subscribed): _S.SUBSCRIBED,
    (_S.RESUMED, PairingStarted): _S.PAIRING,
    (_S.RESUMED, Connected): _S.CONNECTED,
    (_S.RESUMED, Cancelled): _S.CANCELLED,
    (_S.RESUMED, Failed): _S.FAILED,
}


@attrs.frozen
class Snapshot:
    """Everything known about one instance's onboarding at one moment (journaled as one record).

    Args:
        name: The instance name; the journal key and what reconciliation searches by.
        state: Current state.
        instance_id: Server id, once created.
        token: The instance token, once created (redacted in reprs; stored by the journal).
        method: Pairing method in use.
        phone: Phone number for the pair-code method (and the linked phone once connected).
        intent: A journaled create/subscribe whose outcome is not yet known, or None.
        intent_at: When that intent was journaled.
        create_attempts: Create calls intended so far.
        subscribe_attempts: Subscribe calls intended so far.
        qr_rotations: Codes (QR or pair code) shown in the current pairing attempt.
        pairing_restarts: Times pairing was restarted (or switched method).
        qr_code: The QR data URL currently shown (kept only while pairing; not journaled).
        pair_code: The pair code currently shown.
        code_expires_at: Expiry of the current QR or pair code.
        subscribed: True once billing was established (pairing requires it).
        failure: Why it failed, in state FAILED.
        planned_at: When onboarding of this name began.
        created_at: When the instance was created (or adopted).
        updated_at: Time of the last event.
        connected_at: When it first connected (the onboarding's goal).
        last_seen_connected_at: When the session was last known to be connected and working.
        trouble_since: When the current trouble (DISCONNECTED or STALLED) began.
        incident: What the current trouble is, in words (cleared once connected again).
        disconnects: Times the session dropped after it had connected.
        repairs: Times pairing was started again after a drop, logout or stall (re-pairs).
        restarts: Times the runtime was restarted to cure a stall.
        restarted_at: When it was last restarted.
        repair_streak: Re-pairs started since the session was last connected (the supervisor's
            cap and backoff count it, across its runs).
        repaired_at: When the latest re-pair started or was abandoned (its backoff counts
            from it).
        restart_attempts: Restarts sent since the session was last connected, answered or
            not (capped and backed off like re-pairs).
        restart_sent_at: When the latest restart was sent.
        attention: Why a person is needed, once the supervisor stopped healing the instance
            on its own (cleared when it connects again or a re-pair starts).
    """

    name: str
    state: State = State.PLANNED
    instance_id: str | None = None
    token: Secret | None = None
    method: PairingMethod = "qr"
    phone: str | None = None
    intent: Intent | None = None
    intent_at: float | None = None
    create_attempts: int = 0
    subscribe_attempts: int = 0
    qr_rotations: int = 0
    pairing_restarts: int = 0
    qr_code: str | None = attrs.field(default=None, repr=False)
    pair_code: str | None = None
    code_expires_at: float | None = None
    subscribed: bool = False
    failure: str | None = None
    planned_at: float = attrs.field(factory=_now)
    created_at: float | None = None
    updated_at: float | None = None
    connected_at: float | None = None
    last_seen_connected_at: float | None = None
    trouble_since: float | None = None
    incident: str | None = None
    disconnects: int = 0
    repairs: int = 0
    restarts: int = 0
    restarted_at: float | None = None
    repair_streak: int = 0
    repaired_at: float | None = None
    restart_attempts: int = 0
    restart_sent_at: float | None = None
    attention: str | None = None

    @property
    def terminal(self) -> bool:
        """True when the driver has nothing more to do on its own."""
        return self.state in TERMINAL_STATES


# `attrs.evolve` (a fields lookup, a getattr and a keyword per field) is most of the cost of a
# transition, which every instance makes about eight times; reading every field with one C-level
# attrgetter and calling the generated __init__ positionally does the same for less (the fleet
# benchmark shows it), and a test checks it against `attrs.evolve`.
_SNAPSHOT_FIELDS: Final = tuple(field.name for field in attrs.fields(Snapshot))
_SNAPSHOT_INDEX: Final = {name: index for index, name in enumerate(_SNAPSHOT_FIELDS)}
_snapshot_values: Final = operator.attrgetter(*_SNAPSHOT_FIELDS)


def _replace(snapshot: Snapshot, changes: Mapping[str, object]) -> Snapshot:
    """Return a copy of ``snapshot`` with ``changes`` applied (what `attrs.evolve` does)."""
    values = list(_snapshot_values(snapshot))
    for name, value in changes.items():
        values[_SNAPSHOT_INDEX[name]] = value
    return Snapshot(*values)


def _guard(snapshot: Snapshot, event: Event) -> str:
    """Return why a table-allowed event is still refused by the snapshot's data ('' if fine)."""
    # Tuples rather than `A | B` unions: a union expression builds a new object on every call.
    if isinstance(event, (PairingStarted, Connected)) and not snapshot.subscribed:
        return "pairing needs a subscription first"
    if isinstance(event, PairingStarted) and event.method == "pair_code" and not event.phone:
        return "the pair-code method needs a phone number"
    if isinstance(event, (QRShown, PairCodeShown)) and snapshot.state is State.PAIRING:
        wanted: PairingMethod = "qr" if isinstance(event, QRShown) else "pair_code"
        if snapshot.method != wanted:
            return f"pairing method is {snapshot.method}"
    if isinstance(event, IntentCleared) and snapshot.intent is None:
        return "no intent is pending"
    if isinstance(event, PairingAbandoned) and snapshot.connected_at is None:
        return "only a re-pair is abandoned (an onboarding's pairing fails)"
    return ""


def transition(snapshot: Snapshot, event: Event) -> Snapshot:
    """Return the snapshot after ``event``; raise `IllegalTransition` if it may not happen now.

    Args:
        snapshot: The current snapshot.
        event: What happened.
    """
    target = TRANSITIONS.get((snapshot.state, type(event)))
    if target is None:
        raise IllegalTransition(snapshot.state, event)
    why = _guard(snapshot, event)
    if why:
        raise IllegalTransition(snapshot.state, event, why)
    changes: dict[str, object] = {"state": target, "updated_at": event.at}
    match event:
        case CreateIntended():
            changes |= {
                "intent": "create",
                "intent_at": event.at,
                "create_attempts": snapshot.create_attempts + 1,
            }
        case Created():
            changes |= {
                "instance_id": event.instance_id,
                "token": event.token,
                "intent": None,
                "intent_at": None,
                "created_at": event.at,
            }
        case IntentCleared():
            changes |= {"intent": None, "intent_at": None}
        case SubscribeIntended():
            changes |= {
                "intent": "subscribe",
                "intent_at": event.at,
                "subscribe_attempts": snapshot.subscribe_attempts + 1,
            }
        case Subscribed():
            changes |= {"intent": None, "intent_at": None, "subscribed": True}
        case PairingStarted():
            restarted = snapshot.state is State.PAIRING
            repaired = snapshot.state is State.DISCONNECTED or snapshot.state is State.STALLED
            if repaired:
                changes |= {
                    "repairs": snapshot.repairs + 1,
                    "repair_streak": snapshot.repair_streak + 1,
                    "repaired_at": event.at,
                    "attention": None,
                }
            changes |= {
                "method": event.method,
                "phone": event.phone if event.phone is not None else snapshot.phone,
                "qr_rotations": 0,
                # A re-pair gets the whole pairing budget again: the restarts onboarding used
                # long ago must not make its first unscanned codes fatal.
                "pairing_restarts": snapshot.pairing_restarts + 1 if restarted else 0,
                "qr_code": None,
                "pair_code": None,
                "code_expires_at": None,
            }
        case QRShown():
            changes |= {
                "qr_code": event.qr_code,
                "code_expires_at": event.expires_at,
                "qr_rotations": snapshot.qr_rotations + 1,
            }
        case PairCodeShown():
            # A pair code counts as a code shown, like a QR, so an unused pair code expiring
            # again and again ends in a pairing restart rather than waiting for the deadline.
            changes |= {
                "pair_code": event.code,
                "code_expires_at": event.expires_at,
                "qr_rotations": snapshot.qr_rotations + 1,
            }
        case Connected():
            first = snapshot.connected_at
            changes |= {
                "connected_at": event.at if first is None else first,
                "last_seen_connected_at": event.at,
                "trouble_since": None,
                "incident": None,
                "repair_streak": 0,
                "restart_attempts": 0,
                "attention": None,
                "phone": event.phone or snapshot.phone,
                "qr_code": None,
                "pair_code": None,
                "code_expires_at": None,
            }
        case Disconnected():
            changes |= {
                "disconnects": snapshot.disconnects + 1,
                "incident": event.reason or "disconnected",
                "trouble_since": snapshot.trouble_since or event.at,
                "last_seen_connected_at": event.last_seen or snapshot.last_seen_connected_at,
            }
        case Stalled():
            changes |= {
                "incident": event.reason,
                "trouble_since": event.at,
                "last_seen_connected_at": event.last_seen or snapshot.last_seen_connected_at,
            }
        case RestartIntended():
            changes |= {
                "restart_attempts": snapshot.restart_attempts + 1,
                "restart_sent_at": event.at,
            }
        case Restarted():
            changes |= {"restarts": snapshot.restarts + 1, "restarted_at": event.at}
        case PairingAbandoned():
            changes |= {
                "incident": event.reason,
                "repaired_at": event.at,
                "qr_code": None,
                "pair_code": None,
                "code_expires_at": None,
            }
        case Escalated():
            changes |= {"attention": event.reason}
        case Failed():
            changes |= {"failure": event.reason, "qr_code": None, "pair_code": None}
        case Cancelled():
            changes |= {"qr_code": None, "pair_code": None, "code_expires_at": None}
        case Resumed():
            pass
    return _replace(snapshot, changes)


def render_mermaid() -> str:
    """Render `TRANSITIONS` as a Mermaid ``stateDiagram-v2`` (self-loops included)."""
    lines = ["stateDiagram-v2", f"    [*] --> {State.PLANNED.value}"]
    edges: dict[tuple[State, State], list[str]] = {}
    for (source, event_type), target in TRANSITIONS.items():
        edges.setdefault((source, target), []).append(event_type.__name__)
    for (source, target), names in edges.items():
        lines.append(f"    {source.value} --> {target.value}: {', '.join(names)}")
    lines.extend(f"    {state.value} --> [*]" for state in (State.CONNECTED, State.FAILED))
    return "\n".join(lines) + "\n"


def render_ascii() -> str:
    """Render `TRANSITIONS` as a plain-text table, one ``state --Event--> state`` per line."""
    width = max(len(s.value) for s in State)
    event_width = max(len(e.__name__) for (_, e) in TRANSITIONS)
    return "".join(
        f"{source.value:<{width}} --{event_type.__name__:-<{event_width}}--> {target.value}\n"
        for (source, event_type), target in TRANSITIONS.items()
    )
