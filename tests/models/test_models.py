"""Wire models: structuring the contract's examples and tolerating what the server may add."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vzaps_async._convert import structure
from vzaps_async.api._base import parse
from vzaps_async.errors import ResponseError
from vzaps_async.models import (
    BillingStatus,
    Chat,
    InstanceInfo,
    PairCode,
    QRCode,
    SessionStatus,
    TypebotConfig,
    WebhookConfig,
)

CREATE_RESPONSE = {
    "id": "VZKB8AU4S4CWY1SLXX4I5WJGRZQMDDFTV6",
    "name": "shop-01",
    "token": "inst_xxxxxxxxxxxxx",
    "url": "https://app.vzaps.com/instances/VZKB8AU4S4CWY1SLXX4I5WJGRZQMDDFTV6",
    "webhook": "https://example.com/hook",
    "events_subscribe": "Message,Connected,Disconnected",
    "reject_calls": False,
    "auto_read_messages": False,
    "connected": None,
    "connected_at": None,
    "whatsapp_push_name": None,
    "whatsapp_jid": None,
    "billing_status": "TRIALING",
    "created_at": "2026-04-13T10:00:00Z",
    "updated_at": "2026-04-13T10:00:00Z",
    "cancel_at": None,
    "expired_at": None,
    "status": "created",
    "labels": {"team": "sales"},
}


def test_create_response_structures() -> None:
    """The documented create response becomes an InstanceInfo with typed fields."""
    info = structure(CREATE_RESPONSE, InstanceInfo)
    assert info.billing_status is BillingStatus.TRIALING
    assert info.events_subscribe == ("Message", "Connected", "Disconnected")
    assert info.created_at == datetime(2026, 4, 13, 10, tzinfo=UTC)
    assert info.connected is None
    assert info.labels == {"team": "sales"}


def test_instance_token_never_shows_in_repr() -> None:
    """The instance token is a Secret: the model repr does not contain it."""
    info = structure(CREATE_RESPONSE, InstanceInfo)
    assert info.token is not None
    assert info.token.reveal() == "inst_xxxxxxxxxxxxx"
    assert "inst_xxxxxxxxxxxxx" not in repr(info)


def test_unknown_enum_values_and_fields_are_kept_or_ignored() -> None:
    """An unknown billing status stays a string and unknown fields are ignored."""
    info = structure({"id": "VZ1", "billing_status": "GRACE", "new_field": [1]}, InstanceInfo)
    assert info.billing_status == "GRACE"
    assert not isinstance(info.billing_status, BillingStatus)


def test_events_subscribe_accepts_array_and_comma_string() -> None:
    """events_subscribe is read from a JSON array as well as a comma-joined string."""
    assert structure(
        {"id": "a", "events_subscribe": ["Message"]}, InstanceInfo
    ).events_subscribe == ("Message",)
    assert structure({"id": "a", "events_subscribe": "A, B"}, InstanceInfo).events_subscribe == (
        "A",
        "B",
    )


@pytest.mark.parametrize("key", ["LinkingCode", "linking_code"])
def test_pair_code_both_spellings(key: str) -> None:
    """The pair code is read from either documented key."""
    assert structure({key: "9H3J-H3J8"}, PairCode).code == "9H3J-H3J8"


def test_qr_code_alternative_keys() -> None:
    """The QR code is read from QRCode and the status from pairing_status when needed."""
    qr = structure({"QRCode": "data:image/png;base64,aGk=", "pairing_status": "qr"}, QRCode)
    assert qr.png == b"hi"
    assert qr.status == "qr"


def test_disconnected_session_status() -> None:
    """A disconnected status is exactly {"connected": false}; every other field is None."""
    status = structure({"connected": False}, SessionStatus)
    assert not status.connected
    assert status.phone is None


def test_webhook_config_from_get_and_set_shapes() -> None:
    """Webhook config reads 'subscribe' (array, GET) and 'events' (comma string, POST)."""
    assert structure({"subscribe": ["Message", "Connected"]}, WebhookConfig).events == (
        "Message",
        "Connected",
    )
    assert structure({"events": "Message,Connected"}, WebhookConfig).events == (
        "Message",
        "Connected",
    )


def test_chat_metadata_example() -> None:
    """The chat metadata example keeps 'unread' as a string and exposes muted as a bool."""
    chat = structure({"jid": "5511@s.whatsapp.net", "unread": "2", "is_muted": "0"}, Chat)
    assert chat.unread == "2"
    assert not chat.muted


def test_typebot_config_reads_id_alias() -> None:
    """A typebot config's id is read from 'typebot_id' or 'id'."""
    assert structure({"id": "tb9"}, TypebotConfig).typebot_id == "tb9"


def test_missing_required_field_is_a_response_error_naming_it() -> None:
    """parse turns a missing required field into a ResponseError that names the field."""
    with pytest.raises(ResponseError, match=r"InstanceInfo\.id") as caught:
        parse({"name": "x"}, InstanceInfo, method="POST", path="/instances/get")
    assert caught.value.path == "/instances/get"


def test_wrong_payload_type_is_a_response_error() -> None:
    """A list where an object is expected raises ResponseError naming the model."""
    with pytest.raises(ResponseError, match="SessionStatus"):
        parse([1, 2], SessionStatus, method="GET", path="/x")


def test_invalid_nested_value_is_a_response_error() -> None:
    """A wrongly typed nested value raises ResponseError with the path to it."""
    with pytest.raises(ResponseError, match=r"business_profile\.categories"):
        parse(
            {"connected": True, "business_profile": {"categories": 5}},
            SessionStatus,
            method="GET",
            path="/x",
        )


def test_thin_models_keep_unknown_fields_read_only() -> None:
    """Unknown fields of a thin model go to its read-only extra; named and aliased ones do not."""
    from vzaps_async._convert import EXTRA
    from vzaps_async.models import Group, StatusResult

    result = structure({"status": "ok", "scope": "all"}, StatusResult)
    assert (result.status, dict(result.extra)) == ("ok", {"scope": "all"})
    with pytest.raises(TypeError):
        result.extra["scope"] = "x"  # type: ignore[index]
    group = structure({"group_id": "1@g.us", "description": "d", "announce": True}, Group)
    assert (group.jid, group.topic, dict(group.extra)) == ("1@g.us", "d", {"announce": True})
    # Nothing unknown: the shared empty mapping, no new object per model.
    assert structure({"status": "ok"}, StatusResult).extra is EXTRA


def test_every_other_wire_name_is_of_a_model_attribute() -> None:
    """Each entry of the wire-name table names an existing model class and attributes of it."""
    import importlib

    import attrs

    from vzaps_async._convert import _WIRE_NAMES

    for key, names in _WIRE_NAMES.items():
        module, _, name = key.partition(".")
        cls = getattr(importlib.import_module(f"vzaps_async.models.{module}"), name)
        assert set(names) <= set(attrs.fields_dict(cls)), key


def test_requests_use_the_first_wire_name_and_leave_out_extra_and_none() -> None:
    """Unstructuring writes a renamed attribute under its first wire name, never ``extra``."""
    from vzaps_async._convert import unstructure
    from vzaps_async.models import MessageAction, PairCode

    assert unstructure(PairCode(code="9H3J")) == {"LinkingCode": "9H3J"}
    action = structure({"id": "m1", "state": "composing"}, MessageAction)
    assert unstructure(action) == {"message_id": "m1"}
