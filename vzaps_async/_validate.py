"""Argument checks run before any request is sent.

Every check raises `InputError` (a `ValueError`) naming the argument and the expected form, and
returns the value normalised for the wire (e.g. a phone number without ``+``, spaces or dashes).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from ._secret import Secret, as_secret, url_repr
from .errors import InputError

__all__ = [
    "CREATE_OPTIONS",
    "boolean",
    "chat_target",
    "choice",
    "create_options",
    "event_names",
    "group_id",
    "instance_id",
    "instance_name",
    "instance_settings",
    "integer",
    "latitude",
    "longitude",
    "non_empty",
    "phone",
    "phones",
    "secret",
    "string_list",
    "web_url",
]

E = TypeVar("E", bound=enum.Enum)

_PHONE_FORM: Final = "country code + digits, e.g. 5511999999999"
#: Visual separators people type inside phone numbers; removing them never changes the digits.
_SEPARATORS: Final = re.compile(r"[\s\-().]")
_DIGITS: Final = re.compile(r"[0-9]{8,15}")
_JID: Final = re.compile(r"[^\s@/]+@[a-z0-9.\-]+")
# No slash (it would change the route) and no white space.
_INSTANCE_ID: Final = re.compile(r"[^\s/]+")
_GROUP_JID: Final = re.compile(r"[0-9]+(-[0-9]+)?@g\.us")
#: Names the set-webhook endpoint rejects explicitly, with the name to use instead.
_WRONG_EVENTS: Final = {
    "Receipt": "ReadReceipt",
    "MessageDelivered": "ReadReceipt",
    "MessageRead": "ReadReceipt",
}


def _type_name(value: object) -> str:
    return type(value).__name__


def non_empty(value: object, field: str) -> str:
    """Require a non-blank string; returns it unchanged.

    Args:
        value: The argument.
        field: Its name, for the error.
    """
    if not isinstance(value, str):
        raise InputError(field, f"must be a str, not {_type_name(value)}")
    if not value.strip():
        raise InputError(field, "must not be empty")
    return value


def phone(value: object, field: str = "phone") -> str:
    """Check a phone number and return it as digits only.

    A leading ``+`` and visual separators (spaces, dashes, dots, parentheses) are removed; what is
    left must be 8-15 digits including the country code.

    Args:
        value: The phone number.
        field: Its name, for the error.
    """
    text = non_empty(value, field)
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if not _DIGITS.fullmatch(digits):
        raise InputError(field, f"{text!r} is not a phone number; expected {_PHONE_FORM}")
    return digits


def phones(value: object, field: str = "phone") -> list[str]:
    """Check one phone number or a non-empty list of them; returns a list of digit strings.

    Args:
        value: A phone number or an iterable of phone numbers.
        field: Its name, for the error.
    """
    if isinstance(value, str):
        return [phone(value, field)]
    if not isinstance(value, Iterable) or isinstance(value, Mapping | bytes):
        raise InputError(
            field, f"must be a phone number or a list of them, not {_type_name(value)}"
        )
    result = [phone(item, f"{field}[{i}]") for i, item in enumerate(value)]
    if not result:
        raise InputError(field, "must contain at least one phone number")
    return result


def chat_target(value: object, field: str = "phone") -> str:
    """Check a chat target: a phone number, a group id (``…@g.us``) or a JID (``user@server``).

    Phone numbers are normalised as by `phone`; JIDs are returned stripped.

    Args:
        value: The target.
        field: Its name, for the error.
    """
    text = non_empty(value, field)
    if "@" in text:
        jid = text.strip()
        if not _JID.fullmatch(jid):
            raise InputError(
                field,
                f"{text!r} is not a JID; expected user@server, e.g. 5511999999999@s.whatsapp.net "
                "or 120363025246125888@g.us",
            )
        return jid
    return phone(text, field)


def group_id(value: object, field: str = "group_id") -> str:
    """Check a group id (``120363025246125888@g.us``).

    Args:
        value: The group id.
        field: Its name, for the error.
    """
    text = non_empty(value, field).strip()
    if not _GROUP_JID.fullmatch(text):
        raise InputError(
            field, f"{text!r} is not a group id; expected e.g. 120363025246125888@g.us"
        )
    return text


def instance_id(value: object, field: str = "instance_id") -> str:
    """Check an instance id: a non-empty string without slashes or whitespace.

    Args:
        value: The instance id.
        field: Its name, for the error.
    """
    text = non_empty(value, field)
    # "." and ".." would be resolved as path segments and reach another route.
    if not _INSTANCE_ID.fullmatch(text) or text in (".", ".."):
        raise InputError(field, f"{text!r} is not an instance id (expected e.g. VZ9K2M4N8P1Q3R5S)")
    return text


def instance_name(value: object, field: str = "name") -> str:
    """Check an instance name: 3 to 255 characters, not blank.

    Args:
        value: The name.
        field: Its name, for the error.
    """
    name = non_empty(value, field)
    if not 3 <= len(name) <= 255:
        raise InputError(field, f"must be 3 to 255 characters long, got {len(name)} ({name!r})")
    if not name.isascii():
        try:
            name.encode()
        except UnicodeEncodeError:
            # What `os.fsdecode` and `sys.argv` leave of a byte that is not UTF-8: no journal
            # or request body can hold it.
            raise InputError(
                field,
                f"holds a lone surrogate, not text ({name!r}); decode the name as UTF-8 first",
            ) from None
    return name


def secret(value: object, field: str) -> Secret:
    """Check a credential and wrap it in a `Secret`; the error never shows the value.

    Args:
        value: A `Secret` or the plain string.
        field: Its name, for the error.
    """
    return as_secret(value, field=field)


def web_url(value: object, field: str = "url") -> str:
    """Check an absolute ``http``/``https`` URL.

    Args:
        value: The URL.
        field: Its name, for the error.
    """
    text = non_empty(value, field).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # url_repr: a webhook URL may carry the receiver's shared secret in its path or query.
        raise InputError(
            field, f"{url_repr(text)} is not an http(s) URL, e.g. https://example.com/hook"
        )
    return text


def _degrees(value: object, field: str, limit: int) -> float:
    """A finite number of degrees from ``-limit`` to ``limit``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, f"must be a number, not {_type_name(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise InputError(field, "must be a finite number")
    if not -limit <= number <= limit:
        raise InputError(field, f"{number} is out of range; expected -{limit} to {limit} degrees")
    return number


def latitude(value: object, field: str = "latitude") -> float:
    """Check a latitude in degrees, -90 to 90.

    Args:
        value: The latitude.
        field: Its name, for the error.
    """
    return _degrees(value, field, 90)


def longitude(value: object, field: str = "longitude") -> float:
    """Check a longitude in degrees, -180 to 180.

    Args:
        value: The longitude.
        field: Its name, for the error.
    """
    return _degrees(value, field, 180)


def integer(value: object, field: str, *, minimum: int | None = None) -> int:
    """Check an int (not a bool), optionally with a lower bound.

    Args:
        value: The number.
        field: Its name, for the error.
        minimum: The smallest value allowed.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field, f"must be an int, not {_type_name(value)}")
    if minimum is not None and value < minimum:
        raise InputError(field, f"must be >= {minimum}, got {value}")
    return value


def boolean(value: object, field: str) -> bool:
    """Check a bool (a truthy string such as ``"false"`` is refused rather than guessed).

    Args:
        value: The flag.
        field: Its name, for the error.
    """
    if not isinstance(value, bool):
        raise InputError(field, f"must be True or False, not {_type_name(value)}")
    return value


def choice(value: object, field: str, allowed: type[E]) -> E:
    """Check that a value is one of an enum's values (given as the member or its string).

    Args:
        value: The value.
        field: Its name, for the error.
        allowed: The enum of accepted values.
    """
    if isinstance(value, allowed):
        return value
    for member in allowed:
        if value == member.value:
            return member
    names = ", ".join(repr(m.value) for m in allowed)
    raise InputError(field, f"{value!r} is not one of {names}")


def string_list(value: object, field: str) -> list[str]:
    """Check a non-empty list of non-empty strings (a bare string is refused, not split).

    Args:
        value: The list.
        field: Its name, for the error.
    """
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InputError(field, f"must be a list of strings, not {_type_name(value)}")
    result = [non_empty(item, f"{field}[{i}]") for i, item in enumerate(value)]
    if not result:
        raise InputError(field, "must not be empty")
    return result


def event_names(value: object, field: str = "events") -> list[str]:
    """Check event names (an iterable, or one comma-separated string) and return them as a list.

    Names are case-sensitive on the wire; a name that differs from a documented one only by case
    is corrected, and names the API rejects (``Receipt``, ``MessageRead``...) are refused with the
    right one. Other unknown names pass through, so names added to the API later keep working.

    Args:
        value: ``["Message", EventType.CONNECTED]`` or ``"Message,Connected"``.
        field: Its name, for the error.
    """
    # Imported here: the client loads no model before a call needs one.
    from .models.common import EventType

    known = {e.value.lower(): e.value for e in EventType}
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",")]
    elif isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        items = list(value)
    else:
        raise InputError(field, f"must be a list of event names, not {_type_name(value)}")
    names: list[str] = []
    for i, item in enumerate(items):
        name = item.value if isinstance(item, EventType) else item
        name = non_empty(name, f"{field}[{i}]").strip()
        if "," in name or any(c.isspace() for c in name):
            raise InputError(f"{field}[{i}]", f"{name!r} is not an event name")
        if name in _WRONG_EVENTS:
            raise InputError(
                f"{field}[{i}]", f"{name!r} is not an event type; use {_WRONG_EVENTS[name]!r}"
            )
        names.append(known.get(name.lower(), name))
    return names


#: The settings an instance takes at create (and update), as `InstancesAPI.create` names them.
CREATE_OPTIONS: Final = ("webhook", "events", "reject_calls", "auto_read_messages", "labels")


def instance_settings(
    *,
    webhook: object = None,
    events: object = None,
    reject_calls: object = None,
    auto_read_messages: object = None,
    labels: object = None,
) -> dict[str, Any]:
    """Check an instance's settings and return them as the create/update body's fields.

    Args:
        webhook: Webhook URL (http or https).
        events: Event names to subscribe (list or comma string).
        reject_calls: Reject incoming calls.
        auto_read_messages: Mark incoming messages read automatically.
        labels: Free-form labels (a mapping).
    """
    body: dict[str, Any] = {}
    if webhook is not None:
        body["webhook"] = web_url(webhook, "webhook")
    if events is not None:
        # The create/update body takes a JSON array; responses give the names comma-joined.
        body["events_subscribe"] = event_names(events)
    if reject_calls is not None:
        body["reject_calls"] = boolean(reject_calls, "reject_calls")
    if auto_read_messages is not None:
        body["auto_read_messages"] = boolean(auto_read_messages, "auto_read_messages")
    if labels is not None:
        if not isinstance(labels, Mapping):
            raise InputError("labels", f"must be a mapping, not {_type_name(labels)}")
        body["labels"] = dict(labels)
    return body


def create_options(value: object, field: str = "create_options") -> None:
    """Check extra create arguments (``{"webhook": ..., "events": ...}``) as `create` would.

    Args:
        value: A mapping of `CREATE_OPTIONS` names to values.
        field: Its name, for the error.
    """
    if not isinstance(value, Mapping):
        raise InputError(field, f"must be a mapping, not {_type_name(value)}")
    unknown = sorted(str(key) for key in value if key not in CREATE_OPTIONS)
    if unknown:
        raise InputError(
            f"{field}[{unknown[0]!r}]", f"is not a create option; use {', '.join(CREATE_OPTIONS)}"
        )
    instance_settings(**value)
