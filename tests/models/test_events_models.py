"""Typed event parsing: envelope and bare data, known inner fields, unknown types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vzaps_async._convert import structure
from vzaps_async.models.events import (
    Connected,
    Disconnected,
    Event,
    GroupParticipantsAdd,
    Message,
    ReadReceipt,
    ReceiptState,
    UnknownEvent,
    parse_event,
)


def _envelope(event_type: str, event: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {
        "id": "evt_01JABC",
        "type": event_type,
        "instance_id": "VZTEST",
        "created_at": "2026-06-23T22:57:17.000Z",
        "data": {"type": event_type, "event": event, **data},
    }


MESSAGE_EVENT = {
    "info": {
        "id": "3EB0ABC",
        "chat": "12345@lid",
        "sender": "12345@lid",
        "sender_alt": "5511999999999@s.whatsapp.net",
        "is_from_me": False,
        "is_group": False,
        "push_name": "Ana",
        "timestamp": "2026-06-23T22:57:15Z",
        "type": "media",
        "media_type": "ptt",
    },
    "message": {"extended_text_message": {"text": "hello there"}},
}


def test_message_envelope_is_typed() -> None:
    """A Message envelope parses into a Message with typed info, text and envelope fields."""
    event = parse_event(_envelope("Message", MESSAGE_EVENT, media_url="https://cdn/x.ogg"))
    assert isinstance(event, Message)
    assert event.id == "evt_01JABC"
    assert event.instance_id == "VZTEST"
    assert event.created_at == datetime(2026, 6, 23, 22, 57, 17, tzinfo=UTC)
    assert event.media_url == "https://cdn/x.ogg"
    assert event.info.id == "3EB0ABC"
    assert event.info.push_name == "Ana"
    assert event.info.media_type == "ptt"
    assert event.info.timestamp == datetime(2026, 6, 23, 22, 57, 15, tzinfo=UTC)
    assert event.text == "hello there"
    assert event.reply_to == "5511999999999@s.whatsapp.net"
    assert event.event == MESSAGE_EVENT
    assert event.raw["data"]["event"] == MESSAGE_EVENT


def test_conversation_text_and_epoch_timestamp() -> None:
    """Plain ``conversation`` text is read and an epoch-seconds timestamp becomes a datetime."""
    event = parse_event(
        _envelope(
            "Message",
            {"info": {"chat": "55@s.whatsapp.net", "timestamp": 1750000000}, "message": {}}
            | {"message": {"conversation": "oi"}},
        )
    )
    assert isinstance(event, Message)
    assert event.text == "oi"
    assert event.info.timestamp == datetime.fromtimestamp(1750000000, UTC)
    assert event.reply_to == "55@s.whatsapp.net"


def test_bare_data_takes_instance_from_argument() -> None:
    """A bare ``data`` object parses too, with the instance id given by the caller."""
    event = parse_event({"type": "Message", "event": MESSAGE_EVENT}, instance_id="VZHEADER")
    assert isinstance(event, Message)
    assert event.id is None
    assert event.instance_id == "VZHEADER"
    assert event.dedup_key == "msg:VZHEADER:3EB0ABC"


def test_bare_data_dedup_key_differs_per_instance() -> None:
    """One WhatsApp message delivered bare to two instances gets a different dedup key on each."""
    keys = {
        parse_event({"type": "Message", "event": MESSAGE_EVENT}, instance_id=instance).dedup_key
        for instance in ("VZSENDER", "VZRECIPIENT")
    }
    assert len(keys) == 2


def test_read_receipt_state_and_ids() -> None:
    """A ReadReceipt exposes its state (data-level) and the ``message_i_ds`` list."""
    event = parse_event(
        _envelope("ReadReceipt", {"message_i_ds": ["A", "B"], "chat": "x"}, state="ReadSelf")
    )
    assert isinstance(event, ReadReceipt)
    assert event.state is ReceiptState.READ_SELF
    assert event.message_ids == ("A", "B")


def test_read_receipt_unknown_state_is_kept() -> None:
    """An undocumented receipt state stays a plain string."""
    event = parse_event(_envelope("ReadReceipt", {"state": "Played"}))
    assert isinstance(event, ReadReceipt)
    assert event.state == "Played"
    assert event.message_ids == ()


def test_disconnected_reason_and_simple_types() -> None:
    """Disconnected carries its reason; other known types get their own class."""
    disconnected = parse_event(_envelope("Disconnected", {"reason": "logout"}))
    assert isinstance(disconnected, Disconnected)
    assert disconnected.reason == "logout"
    assert isinstance(parse_event(_envelope("Connected", {})), Connected)
    added = parse_event(_envelope("GroupParticipantsAdd", {"jid": "g@g.us"}))
    assert isinstance(added, GroupParticipantsAdd)
    assert added.event == {"jid": "g@g.us"}


def test_unknown_type_is_kept_raw() -> None:
    """An unknown type becomes UnknownEvent with its payload intact."""
    payload = _envelope("qr", {"code": "2@abc"})
    event = parse_event(payload)
    assert isinstance(event, UnknownEvent)
    assert event.type == "qr"
    assert event.event == {"code": "2@abc"}
    assert event.raw == payload


def test_structure_through_the_converter() -> None:
    """The shared cattrs converter structures the Event union as a tagged union on ``type``."""
    event = structure(_envelope("Disconnected", {"reason": "expired"}), Event)  # type: ignore[arg-type]
    assert isinstance(event, Disconnected)
    assert event.reason == "expired"


def test_non_object_payload_is_refused() -> None:
    """A payload that is not a JSON object raises TypeError."""
    with pytest.raises(TypeError):
        parse_event(["not", "an", "object"])  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event_type=st.sampled_from(["Message", "ReadReceipt", "Disconnected", "Presence", "zzz"]),
    event=st.dictionaries(
        st.sampled_from(["info", "message", "state", "message_i_ds", "reason", "chat"]),
        json_values,
    ),
    extra=st.dictionaries(st.sampled_from(["id", "created_at", "media_url", "state"]), json_values),
)
def test_parsing_never_crashes(
    event_type: str, event: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Arbitrary inner payloads of any type parse without raising."""
    try:
        parsed = parse_event({"type": event_type, "event": event, **extra})
    except Exception as exc:  # pragma: no cover - the assertion below reports it
        pytest.fail(f"parse_event raised {exc!r}")
    assert parsed.type == event_type


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    info=st.dictionaries(
        st.sampled_from(["id", "chat", "sender_alt", "is_from_me", "is_group", "timestamp"]),
        json_values,
    )
)
def test_message_info_of_wrong_types_never_crashes(info: dict[str, Any]) -> None:
    """Message info fields of unexpected JSON types still parse into a Message."""
    parsed = parse_event({"type": "Message", "event": {"info": info}})
    assert isinstance(parsed, Message)
