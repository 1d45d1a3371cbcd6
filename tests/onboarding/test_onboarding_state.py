"""The pure onboarding state machine: table, guards, diagram, and random exploration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from vzaps_async._secret import Secret
from vzaps_async.errors import VZapsError
from vzaps_async.onboarding import (
    TRANSITIONS,
    Cancelled,
    Connected,
    Created,
    CreateIntended,
    Disconnected,
    Escalated,
    Event,
    Failed,
    IllegalTransition,
    IntentCleared,
    PairCodeShown,
    PairingAbandoned,
    PairingStarted,
    QRShown,
    Restarted,
    RestartIntended,
    Resumed,
    Snapshot,
    Stalled,
    State,
    Subscribed,
    SubscribeIntended,
    render_ascii,
    render_mermaid,
    transition,
)
from vzaps_async.onboarding._state import _replace

DOC = Path(__file__).resolve().parents[2] / "docs" / "onboarding.md"
TOKEN = Secret("inst_abcdefghijklmnop")


def happy_path() -> list[Event]:
    return [
        CreateIntended(at=1.0),
        Created("VZ1", TOKEN, at=2.0),
        SubscribeIntended(at=3.0),
        Subscribed(at=4.0),
        PairingStarted("qr", at=5.0),
        QRShown("data:image/png;base64,AAAA", expires_at=25.0, at=6.0),
        Connected("5511999999999", at=7.0),
    ]


def test_happy_path_reaches_connected_and_records_everything() -> None:
    """The normal event sequence ends CONNECTED with id, token, counters and timestamps kept."""
    snap = Snapshot(name="shop-01", planned_at=0.0)
    for event in happy_path():
        snap = transition(snap, event)
    assert snap.state is State.CONNECTED
    assert snap.instance_id == "VZ1"
    assert snap.token == TOKEN
    assert (snap.create_attempts, snap.subscribe_attempts, snap.qr_rotations) == (1, 1, 1)
    assert snap.intent is None
    assert (snap.created_at, snap.connected_at, snap.updated_at) == (2.0, 7.0, 7.0)
    assert snap.qr_code is None  # the QR is dropped once it is no longer needed
    assert snap.phone == "5511999999999"


def test_intents_are_recorded_and_cleared() -> None:
    """CreateIntended records a pending intent that Created or IntentCleared clears."""
    snap = transition(Snapshot(name="abc"), CreateIntended(at=10.0))
    assert (snap.intent, snap.intent_at) == ("create", 10.0)
    cleared = transition(snap, IntentCleared("nothing found"))
    assert cleared.intent is None
    assert cleared.state is State.PLANNED


def test_illegal_transition_names_both_states_and_the_event() -> None:
    """A forbidden event raises IllegalTransition naming state, event and what is allowed."""
    with pytest.raises(IllegalTransition) as info:
        transition(Snapshot(name="abc"), Subscribed())
    message = str(info.value)
    assert "Subscribed" in message
    assert "PLANNED" in message
    assert "CreateIntended" in message
    assert isinstance(info.value, VZapsError)


def test_guards_refuse_pairing_without_subscription_and_pair_code_without_phone() -> None:
    """Data guards refuse pairing before billing and a pair-code pairing without a phone."""
    resumed = Snapshot(name="abc", state=State.RESUMED, instance_id="VZ1", token=TOKEN)
    with pytest.raises(IllegalTransition, match="subscription"):
        transition(resumed, PairingStarted("qr"))
    subscribed = Snapshot(name="abc", state=State.SUBSCRIBED, subscribed=True)
    with pytest.raises(IllegalTransition, match="phone"):
        transition(subscribed, PairingStarted("pair_code"))
    pairing = transition(subscribed, PairingStarted("qr"))
    with pytest.raises(IllegalTransition, match="method"):
        transition(pairing, PairCodeShown("ABCD-EFGH", "5511"))


def test_pairing_restart_counts_and_resets_rotations() -> None:
    """A second PairingStarted counts a restart and resets the per-attempt code count."""
    snap = Snapshot(name="abc", state=State.SUBSCRIBED, subscribed=True, phone="5511")
    snap = transition(snap, PairingStarted("qr"))
    for i in range(3):
        snap = transition(snap, QRShown(f"data:{i}"))
    assert snap.qr_rotations == 3
    snap = transition(snap, PairingStarted("pair_code", "5511"))
    assert (snap.qr_rotations, snap.pairing_restarts, snap.method) == (0, 1, "pair_code")


def test_snapshot_repr_hides_token_and_qr() -> None:
    """A snapshot's repr shows neither the token nor the QR data."""
    snap = Snapshot(name="abc", token=TOKEN, qr_code="data:image/png;base64,SECRETQR")
    text = repr(snap)
    assert TOKEN.reveal() not in text
    assert "SECRETQR" not in text


def test_docs_diagram_equals_rendered_table() -> None:
    """docs/onboarding.md contains exactly the diagram rendered from the transition table."""
    text = DOC.read_text()
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert blocks == [render_mermaid()]


def test_ascii_rendering_lists_every_transition() -> None:
    """The ASCII rendering has one line per table entry."""
    assert len(render_ascii().splitlines()) == len(TRANSITIONS)


EVENTS = st.one_of(
    st.builds(CreateIntended),
    st.builds(Created, st.just("VZ1"), st.just(TOKEN), st.booleans()),
    st.builds(IntentCleared),
    st.builds(SubscribeIntended),
    st.builds(Subscribed),
    st.builds(PairingStarted, st.sampled_from(["qr", "pair_code"]), st.sampled_from([None, "55"])),
    st.builds(QRShown, st.sampled_from(["data:a", "data:b"])),
    st.builds(PairCodeShown, st.just("ABCD-EFGH"), st.just("55")),
    st.builds(Connected),
    st.builds(Disconnected, st.sampled_from(["logout", ""])),
    st.builds(Stalled, st.just("queue stuck")),
    st.builds(Restarted),
    st.builds(Cancelled),
    st.builds(Resumed),
    st.builds(Failed, st.just("boom")),
)


class MachineExploration(RuleBasedStateMachine):
    """Random event sequences: refused events change nothing, accepted ones follow the table."""

    def __init__(self) -> None:
        super().__init__()
        self.snap = Snapshot(name="explore")
        self.visited: list[State] = [State.PLANNED]

    @rule(event=EVENTS)
    def apply(self, event: Event) -> None:
        before = self.snap
        expected = TRANSITIONS.get((before.state, type(event)))
        try:
            after = transition(before, event)
        except IllegalTransition:
            return
        assert expected is not None, "an event outside the table was accepted"
        assert after.state is expected
        self.snap = after
        self.visited.append(after.state)

    @invariant()
    def connected_only_through_created_and_subscribed(self) -> None:
        if self.snap.state is State.CONNECTED:
            assert State.CREATED in self.visited
            assert self.snap.subscribed
            assert self.snap.instance_id is not None
            assert self.snap.token is not None

    @invariant()
    def subscribed_implies_created(self) -> None:
        if self.snap.subscribed or self.snap.state is State.SUBSCRIBED:
            assert State.CREATED in self.visited
            assert self.snap.instance_id is not None

    @invariant()
    def failed_is_terminal_and_has_reason(self) -> None:
        if State.FAILED in self.visited:
            assert self.snap.state is State.FAILED
            assert self.snap.failure

    @invariant()
    def pending_intent_matches_state(self) -> None:
        if self.snap.intent == "create":
            assert self.snap.state in (State.PLANNED, State.FAILED)
        if self.snap.intent == "subscribe":
            assert self.snap.instance_id is not None


MachineExploration.TestCase.settings = settings(max_examples=150, stateful_step_count=40)
TestMachineExploration = MachineExploration.TestCase


def test_pair_codes_count_toward_rotations() -> None:
    """Each pair code shown counts as a code of the pairing attempt, like a QR."""
    snap = Snapshot(name="abc", state=State.SUBSCRIBED, instance_id="VZ1", subscribed=True)
    snap = transition(snap, PairingStarted("pair_code", "5511999999999"))
    snap = transition(snap, PairCodeShown("ABCD-1234", "5511999999999", None))
    snap = transition(snap, PairCodeShown("EFGH-5678", "5511999999999", None))
    assert (snap.qr_rotations, snap.pair_code) == (2, "EFGH-5678")


SNAPSHOT_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "state": st.sampled_from(list(State)),
        "instance_id": st.none() | st.text(max_size=8),
        "token": st.none() | st.just(TOKEN),
        "intent": st.sampled_from([None, "create", "subscribe"]),
        "qr_rotations": st.integers(0, 9),
        "qr_code": st.none() | st.text(max_size=8),
        "subscribed": st.booleans(),
        "failure": st.none() | st.text(max_size=8),
        "connected_at": st.none() | st.floats(allow_nan=False),
    },
)


@given(first=SNAPSHOT_CHANGES, second=SNAPSHOT_CHANGES)
def test_snapshot_replace_matches_attrs_evolve(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    """The transition's fast field replace builds exactly the snapshot attrs.evolve would."""
    base = attrs.evolve(Snapshot(name="abc"), **first)
    assert _replace(base, second) == attrs.evolve(base, **second)


@pytest.mark.parametrize("state", [State.PLANNED, State.CREATED, State.RESUMED])
def test_clearing_an_intent_needs_one_pending(state: State) -> None:
    """IntentCleared is refused when no create or subscribe intent is pending, in every state."""
    snap = Snapshot(name="shop-01", state=state, instance_id="VZ1", token=TOKEN)
    with pytest.raises(IllegalTransition, match="no intent is pending"):
        transition(snap, IntentCleared("nothing to clear"))
    pending = attrs.evolve(snap, intent="create" if state is State.PLANNED else "subscribe")
    assert transition(pending, IntentCleared("cleared")).intent is None


def connected_snapshot() -> Snapshot:
    snap = Snapshot(name="shop-01", planned_at=0.0)
    for event in happy_path():
        snap = transition(snap, event)
    return snap


def test_a_drop_that_comes_back_keeps_the_history() -> None:
    """CONNECTED -> DISCONNECTED -> CONNECTED counts the drop and keeps the first connection."""
    snap = transition(connected_snapshot(), Disconnected("status probe", last_seen=9.0, at=10.0))
    assert snap.state is State.DISCONNECTED
    assert (snap.disconnects, snap.trouble_since, snap.incident) == (1, 10.0, "status probe")
    assert snap.last_seen_connected_at == 9.0
    snap = transition(snap, Connected(at=12.0))
    assert snap.state is State.CONNECTED
    assert (snap.connected_at, snap.last_seen_connected_at) == (7.0, 12.0)
    assert (snap.trouble_since, snap.incident, snap.repairs) == (None, None, 0)


def test_a_logout_goes_back_to_pairing_as_a_repair() -> None:
    """A dropped session that needs a phone again re-enters PAIRING, counted as a re-pair."""
    snap = transition(connected_snapshot(), Disconnected("logout", at=10.0))
    snap = transition(snap, PairingStarted("qr", at=11.0))
    assert snap.state is State.PAIRING
    assert (snap.repairs, snap.pairing_restarts, snap.qr_rotations) == (1, 0, 0)
    snap = transition(snap, QRShown("data:new", at=12.0))
    snap = transition(snap, Connected(at=13.0))
    assert snap.state is State.CONNECTED
    assert (snap.repairs, snap.disconnects, snap.connected_at) == (1, 1, 7.0)


@pytest.mark.parametrize("trouble", [Disconnected("logout", at=10.0), Stalled("stuck", at=10.0)])
def test_a_repair_gets_the_whole_pairing_budget_again(trouble: Event) -> None:
    """Pairing restarts used up during onboarding are forgotten when a re-pair starts, so the
    driver's max_pairing_restarts counts from zero for it."""
    used = attrs.evolve(connected_snapshot(), pairing_restarts=3)
    snap = transition(transition(used, trouble), PairingStarted("qr", at=11.0))
    assert (snap.state, snap.pairing_restarts) == (State.PAIRING, 0)
    again = transition(snap, PairingStarted("qr", at=12.0))
    assert again.pairing_restarts == 1


def test_a_stalled_session_is_restarted_then_repaired() -> None:
    """The zombie ladder: STALLED counts restarts, then a re-pair leaves for PAIRING."""
    snap = transition(connected_snapshot(), Stalled("queue stuck", last_seen=8.0, at=10.0))
    assert (snap.state, snap.incident, snap.trouble_since) == (State.STALLED, "queue stuck", 10.0)
    snap = transition(snap, Restarted(at=11.0))
    assert (snap.state, snap.restarts, snap.restarted_at) == (State.STALLED, 1, 11.0)
    cured = transition(snap, Connected(at=12.0))
    assert (cured.state, cured.incident, cured.restarts) == (State.CONNECTED, None, 1)
    repaired = transition(snap, PairingStarted("qr", at=12.0))
    assert (repaired.state, repaired.repairs) == (State.PAIRING, 1)


@pytest.mark.parametrize("event", [Disconnected("x"), Stalled("x"), Restarted()])
def test_supervision_events_need_a_connected_session(event: Event) -> None:
    """Drops, stalls and restarts are refused before the instance ever connected."""
    pairing = Snapshot(name="abc", state=State.PAIRING, subscribed=True)
    with pytest.raises(IllegalTransition):
        transition(pairing, event)


def test_the_supervisors_streaks_count_until_the_session_connects_again() -> None:
    """Re-pairs and restarts since the last connection are counted (with their times), an
    unscanned re-pair goes back to DISCONNECTED, and Connected clears the streaks and attention."""
    snap = transition(connected_snapshot(), Stalled("stuck", at=10.0))
    snap = transition(snap, RestartIntended(at=11.0))
    snap = transition(snap, RestartIntended(at=12.0))
    assert (snap.restart_attempts, snap.restart_sent_at, snap.restarts) == (2, 12.0, 0)
    snap = transition(snap, PairingStarted("qr", at=13.0))
    snap = transition(snap, PairingAbandoned("not scanned", at=14.0))
    assert snap.state is State.DISCONNECTED
    assert (snap.repair_streak, snap.repaired_at, snap.incident) == (1, 14.0, "not scanned")
    snap = transition(snap, Escalated("a person, please", at=15.0))
    assert (snap.state, snap.attention) == (State.DISCONNECTED, "a person, please")
    snap = transition(snap, PairingStarted("qr", at=16.0))
    assert (snap.repair_streak, snap.repairs, snap.attention) == (2, 2, None)
    snap = transition(snap, Connected(at=17.0))
    assert (snap.repair_streak, snap.restart_attempts, snap.attention) == (0, 0, None)
    assert (snap.repairs, snap.repaired_at, snap.restart_sent_at) == (2, 16.0, 12.0)


def test_only_a_repair_is_abandoned() -> None:
    """An onboarding's pairing (never connected) cannot be abandoned back to DISCONNECTED: it
    fails as before."""
    snap = Snapshot(name="abc", state=State.SUBSCRIBED, instance_id="VZ1", subscribed=True)
    snap = transition(snap, PairingStarted("qr"))
    with pytest.raises(IllegalTransition, match="only a re-pair is abandoned"):
        transition(snap, PairingAbandoned("not scanned"))
