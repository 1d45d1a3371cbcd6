"""Input validation: normalised values, and InputError naming the field for everything else."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vzaps_async import _validate as validate
from vzaps_async._secret import Secret
from vzaps_async.errors import InputError
from vzaps_async.models import ChatExpiration, EventType


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("5511999999999", "5511999999999"),
        ("+5511999999999", "5511999999999"),
        ("+55 (11) 99999-9999", "5511999999999"),
        ("1 202.555.0143", "12025550143"),
    ],
)
def test_phone_normalises(raw: str, digits: str) -> None:
    """Phone numbers lose '+', spaces, dashes, dots and parentheses."""
    assert validate.phone(raw) == digits


@pytest.mark.parametrize(
    "raw", ["", "   ", "abc", "+55 11 9999x9999", "1234567", "1" * 16, "++55119999999"]
)
def test_phone_rejects_with_expected_form(raw: str) -> None:
    """Non-phone text raises InputError naming the field and showing the expected form."""
    with pytest.raises(InputError, match=r"^contact_phone: ") as caught:
        validate.phone(raw, "contact_phone")
    assert caught.value.field == "contact_phone"
    if raw.strip():
        assert "5511999999999" in caught.value.problem


@pytest.mark.parametrize("raw", [5511999999999, None, b"5511999999999", ["55"]])
def test_phone_rejects_wrong_types(raw: object) -> None:
    """A non-str phone raises InputError (a ValueError) naming the type."""
    with pytest.raises(ValueError, match="must be a str"):
        validate.phone(raw)


@given(st.text())
def test_phone_never_crashes_on_random_text(raw: str) -> None:
    """Any text either normalises to 8-15 ASCII digits or raises InputError, nothing else."""
    try:
        digits = validate.phone(raw)
    except InputError:
        return  # refusing the text is an allowed outcome; any other exception fails the test
    assert digits.isascii()
    assert digits.isdigit()
    assert 8 <= len(digits) <= 15


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text())))
def test_chat_target_never_crashes_on_other_types(raw: object) -> None:
    """Non-string chat targets always raise InputError."""
    with pytest.raises(InputError):
        validate.chat_target(raw)


def test_chat_target_accepts_jids_and_groups() -> None:
    """Chat targets may be JIDs or group ids; broken JIDs are refused."""
    assert validate.chat_target("5511999999999@s.whatsapp.net") == "5511999999999@s.whatsapp.net"
    assert validate.chat_target("120363025246125888@g.us") == "120363025246125888@g.us"
    with pytest.raises(InputError, match="JID"):
        validate.chat_target("@g.us")


def test_instance_id_and_secret() -> None:
    """Instance ids may not contain '/'; empty secrets are refused without echoing a value."""
    assert validate.instance_id("VZ123") == "VZ123"
    with pytest.raises(InputError, match="instance_id"):
        validate.instance_id("VZ/../x")
    with pytest.raises(InputError, match="token: must not be empty"):
        validate.secret("  ", "token")
    assert validate.secret("abc", "token") == Secret("abc")


@pytest.mark.parametrize(
    ("check", "value", "field"),
    [
        (validate.latitude, 90.5, "latitude"),
        (validate.latitude, math.nan, "latitude"),
        (validate.longitude, -180.1, "longitude"),
        (validate.longitude, True, "longitude"),
        (validate.web_url, "mailto:x@y", "url"),
        (validate.web_url, "https://", "url"),
    ],
)
def test_ranges_and_urls(check: object, value: object, field: str) -> None:
    """Out-of-range coordinates and non-http URLs raise InputError naming the field."""
    with pytest.raises(InputError) as caught:
        check(value)  # type: ignore[operator]
    assert caught.value.field == field


def test_choice_accepts_members_and_values_only() -> None:
    """Enum-ish arguments accept the member or its value and list the options otherwise."""
    assert validate.choice("OFF", "expiration", ChatExpiration) is ChatExpiration.OFF
    with pytest.raises(InputError, match="'24_HOURS'"):
        validate.choice("off", "expiration", ChatExpiration)


def test_event_names() -> None:
    """Event names are split, case-corrected, and the documented invalid names are refused."""
    assert validate.event_names("message, Connected") == ["Message", "Connected"]
    assert validate.event_names([EventType.ALL, "FutureEvent"]) == ["All", "FutureEvent"]
    with pytest.raises(InputError, match="ReadReceipt") as caught:
        validate.event_names(["Message", "MessageRead"])
    assert caught.value.field == "events[1]"


def test_string_lists_refuse_bare_strings() -> None:
    """A bare string where a list is expected is refused rather than split into characters."""
    with pytest.raises(InputError, match="list of strings"):
        validate.string_list("m1", "message_ids")
    with pytest.raises(InputError, match="must not be empty"):
        validate.string_list([], "message_ids")


@pytest.mark.parametrize("value", [".", ".."])
def test_dot_segments_are_not_instance_ids(value: str) -> None:
    """'.' and '..' would be resolved as path segments, so they are refused as instance ids."""
    with pytest.raises(InputError, match="instance_id"):
        validate.instance_id(value)


@pytest.mark.parametrize("value", ["zq9v\r\nX-Evil: 1", "zq9v\n", "zq9v\x00"])
def test_a_credential_with_a_control_character_is_an_input_error(value: str) -> None:
    """A token with a line break or NUL is an InputError naming the field, without its value."""
    with pytest.raises(InputError, match="token: contains a line break") as caught:
        validate.secret(value, "token")
    assert "zq9v" not in str(caught.value)


def test_a_bad_webhook_url_is_refused_without_repeating_its_secret() -> None:
    """The error for a malformed webhook URL names the field but hides its path and query."""
    from vzaps_async import _validate

    with pytest.raises(InputError, match="not an http") as caught:
        _validate.web_url("htp://hooks.example.com/webhook/s3cr3t-value?secret=s3cr3t-value")
    assert "s3cr3t" not in str(caught.value)


def test_an_instance_name_with_a_lone_surrogate_is_refused_by_name() -> None:
    """A name holding what os.fsdecode leaves of a byte that is not UTF-8 is an InputError
    naming the field, before any journal or request sees it; other non-ASCII names pass."""
    with pytest.raises(InputError, match="name: holds a lone surrogate"):
        validate.instance_name("caf\udce9")
    assert validate.instance_name("café-ñ") == "café-ñ"
