"""The one cattrs converter, and every wire decision in one place.

`configure_converter` registers all of them (cattrs' preconf style); `vzaps_async.models` calls
it once every model class exists. Wire decisions:

- Field names on the wire are snake_case and equal the attribute names of the models. The few
  exceptions are listed per class in `configure_converter` (e.g. the pair code arrives as
  ``LinkingCode`` or ``linking_code``).
- Unknown fields are ignored (``forbid_extra_keys=False``): the server may add fields at any time.
  Models of responses the contract barely documents (groups, queues, contacts, action results)
  have an ``extra`` attribute instead, which keeps the fields the model does not name (the common
  case of no unknown field costs one set difference).
- Optional fields (``X | None`` with a default) may be missing or ``null``.
- Closed sets the API documents (billing status, event types, ...) are `enum.StrEnum`s, but a model
  field holding one is typed ``TheEnum | str``: a value the enum does not know is kept as the plain
  string instead of failing.
- Datetimes are RFC 3339 strings (``2026-04-13T10:00:00Z``, fractional seconds allowed) or epoch
  seconds/milliseconds, and become aware `datetime`s; unparseable text is kept out of the model
  (None) rather than crashing.
- ``events_subscribe`` arrives as a comma-joined string and is given to users as a tuple of names;
  either form is accepted (`EventNames`).
- A `Count` may arrive as a number or as the list of the things counted.
- Tokens are wrapped in `Secret` as soon as they are read, so no repr shows them.
- Events are structured from the envelope or a bare ``data`` object into the class of their type.
- Unstructuring (requests) drops ``None`` values, so optional request fields are omitted, not sent
  as null.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NewType, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._secret import Secret

__all__ = [
    "EXTRA",
    "Count",
    "EventNames",
    "configure_converter",
    "converter",
    "parse_datetime",
    "structure",
    "unstructure",
]

T = TypeVar("T")

#: A model field type for a list of event names; structured from an array or a comma string.
EventNames = NewType("EventNames", tuple[str, ...])
#: A model field type for a count that may arrive as a number or as the list of things counted.
Count = NewType("Count", int)
E = TypeVar("E", bound=enum.Enum)

converter = cattrs.Converter(forbid_extra_keys=False, omit_if_default=False)

#: The default of a model's ``extra`` attribute: one shared, read-only, empty mapping.
EXTRA: Mapping[str, Any] = MappingProxyType({})


def parse_datetime(value: Any, _: Any = None) -> datetime | None:
    """Parse an RFC 3339 timestamp; None for null, empty or unparseable values.

    Args:
        value: The wire value.
        _: Ignored (the type cattrs passes when this is its structure hook).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Epoch seconds, or milliseconds when too large to be seconds; out of range is unreadable.
        try:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _optional_scalar(cast: type[Any]) -> Callable[[Any, Any], Any]:
    # What cattrs does for ``X | None`` (None stays None, anything else is ``X(value)``), in one
    # call instead of its generic Optional dispatch: these fields are most of every model.
    def structure(value: Any, _: Any) -> Any:
        return value if value is None or type(value) is cast else cast(value)

    return structure


def _open_enum(converter: cattrs.Converter, enum_cls: type[E]) -> None:
    # ``enum_cls | str``: unknown values stay plain strings instead of failing.
    members = {m.value: m for m in enum_cls}

    def structure(value: Any, _: Any) -> E | str:
        return members.get(value, value if isinstance(value, str) else str(value))

    converter.register_structure_hook(enum_cls | str, structure)
    converter.register_structure_hook(enum_cls, structure)
    # cattrs does not split a three-way union with None on its own.
    converter.register_structure_hook(
        enum_cls | str | None,
        lambda v, t: None if v is None else structure(v, t),
    )
    converter.register_unstructure_hook(enum_cls, lambda m: m.value)


def _rename(
    converter: cattrs.Converter, cls: type[Any], **wire_names: str | tuple[str, ...]
) -> None:
    # How ``cls`` is read and written: other wire names, and its ``extra`` fields. A tuple lists
    # alternative spellings read in order (the first is also the one written). When ``cls`` has
    # an attribute named ``extra``, every field of the payload that no attribute reads is kept
    # there (read-only); ``extra`` itself is never read from or written to the wire.
    primary = {k: (v if isinstance(v, str) else v[0]) for k, v in wire_names.items()}
    alternates = {k: v[1:] for k, v in wire_names.items() if isinstance(v, tuple)}
    overrides: dict[str, Any] = {k: override(rename=v) for k, v in primary.items()}
    names = [a.name for a in attrs.fields(cls)]
    keeps_extra = "extra" in names
    if keeps_extra:
        overrides["extra"] = override(omit=True)
    base = make_dict_structure_fn(cls, converter, **overrides)
    known = frozenset(
        [primary.get(n, n) for n in names if n != "extra"]
        + [alt for alts in alternates.values() for alt in alts]
    )

    def structure(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            return base(value, t)
        for attr, alts in alternates.items():
            if primary[attr] not in value:
                for alt in alts:
                    if alt in value:
                        value = {**value, primary[attr]: value[alt]}
                        break
        obj = base(value, t)
        if keeps_extra and not known.issuperset(value):
            unknown = {k: v for k, v in value.items() if k not in known}
            # The instance is frozen; attrs' own __init__ sets attributes the same way.
            object.__setattr__(obj, "extra", MappingProxyType(unknown))
        return obj

    converter.register_structure_hook(cls, structure if alternates or keeps_extra else base)
    renamed = make_dict_unstructure_fn(cls, converter, **overrides)
    converter.register_unstructure_hook(
        cls, lambda obj: {k: v for k, v in renamed(obj).items() if v is not None}
    )


def _drop_none(converter: cattrs.Converter, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    base = make_dict_unstructure_fn(cls, converter)

    def unstructure(obj: Any) -> dict[str, Any]:
        return {k: v for k, v in base(obj).items() if v is not None}

    return unstructure


def _structure_secret(value: Any, _: Any) -> Secret | None:
    # Tokens arrive as plain strings and are wrapped at once, so no model repr can show them.
    if value is None or value == "":
        return None
    return Secret(str(value))


def _structure_names(value: Any, _: Any) -> tuple[str, ...]:
    # Event-name lists arrive as a JSON array or as one comma-joined string ("Message,Connected").
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(v) for v in value)


def _structure_count(value: Any, _: Any) -> int | None:
    # `attempts` is documented only by name: a number, or possibly the list of attempt records.
    if value is None:
        return None
    if isinstance(value, list):
        return len(value)
    return int(value)


def configure_converter(converter: cattrs.Converter) -> None:
    """Register every wire decision of this module's docstring on ``converter``.

    `vzaps_async.models` calls it once, on `converter`, when every model class exists. Order
    matters: a class's structure function is generated when it is registered, with the hooks
    its field types have at that moment (open enums first, nested models before their owners).

    Args:
        converter: The converter to configure.
    """
    from vzaps_async.models import (
        billing,
        chats,
        chatwoot,
        common,
        events,
        groups,
        instances,
        messages,
        queues,
        session,
        typebot,
        users,
        webhook,
    )

    # Scalars, datetimes, secrets and the wire's list forms.
    for scalar in (str, int, float, bool):
        converter.register_structure_hook(scalar | None, _optional_scalar(scalar))
    converter.register_structure_hook(datetime, parse_datetime)
    converter.register_structure_hook(datetime | None, parse_datetime)
    converter.register_unstructure_hook(datetime, lambda d: d.isoformat().replace("+00:00", "Z"))
    converter.register_structure_hook(Secret, _structure_secret)
    converter.register_structure_hook(Secret | None, _structure_secret)
    converter.register_unstructure_hook(Secret, lambda s: s.reveal())
    converter.register_structure_hook(EventNames, _structure_names)
    converter.register_structure_hook(Count, _structure_count)
    # Requests: None fields are left out.
    converter.register_unstructure_hook_factory(attrs.has, lambda cls: _drop_none(converter, cls))

    # Closed sets the API documents, open to values it adds later.
    for enum_cls in (
        billing.SubscriptionMode,
        chats.ChatExpiration,
        chatwoot.ChatwootImportScope,
        common.EventType,
        events.ReceiptState,
        instances.BillingStatus,
        messages.PresenceState,
        typebot.TypebotTriggerType,
        typebot.TypebotTriggerOperator,
        typebot.TypebotSessionStatus,
        webhook.WebhookLogStatus,
    ):
        _open_enum(converter, enum_cls)

    # Thinly documented answers keep the fields they do not name in ``extra``.
    for extra_cls in (
        common.ActionResult,
        common.StatusResult,
        groups.GroupParticipant,
        queues.QueuedItem,
        queues.QueueRemoval,
        users.UserInfo,
        users.Contact,
        webhook.WebhookLog,
    ):
        _rename(converter, extra_cls)
    # Other wire names, first one written; the rest read in order (forms seen across the SDKs).
    _rename(converter, webhook.WebhookConfig, events=("subscribe", "events"))
    _rename(converter, messages.MessageAction, message_id=("message_id", "id"))
    _rename(converter, messages.MediaDownload, data=("data", "file", "base64", "media"))
    _rename(
        converter,
        groups.Group,
        jid=("jid", "group_id", "JID"),
        topic=("topic", "description"),
    )
    _rename(converter, groups.GroupInviteLink, invite_link=("invite_link", "InviteLink", "link"))
    _rename(converter, groups.GroupPhoto, picture_id=("picture_id", "PictureID"))
    _rename(converter, typebot.TypebotConfig, typebot_id=("typebot_id", "id"))
    _rename(converter, typebot.TypebotSession, id=("id", "session_id"))
    _rename(
        converter,
        session.QRCode,
        qr_code=("qr_code", "QRCode"),
        status=("status", "pairing_status"),
    )
    _rename(converter, session.PairCode, code=("LinkingCode", "linking_code"))
    # Events: the envelope or a bare ``data`` object, into the class of its type.
    converter.register_structure_hook(events.Event, events._structure_event)


def structure(data: Any, cls: type[T]) -> T:
    """Structure wire data into ``cls``; raises `cattrs` errors on shapes that cannot fit.

    Args:
        data: Decoded JSON.
        cls: The model class.
    """
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Unstructure a model into JSON-ready data (None fields dropped).

    Args:
        obj: A model instance.
    """
    return converter.unstructure(obj)
