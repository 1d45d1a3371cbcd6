"""The one cattrs converter, and every wire decision in one place.

`configure_converter` registers all of them (cattrs' preconf style) when this module loads. Hooks
for the models and their enums are built on first use of each type, so importing this module
imports no model and a process pays only for the models it reads or writes. Wire decisions:

- Field names on the wire are snake_case and equal the attribute names of the models. The few
  exceptions are listed per class in ``_WIRE_NAMES`` (e.g. the pair code arrives as
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
- Events are structured from the envelope or a bare ``data`` object into the class of their type
  (the hook of the `Event` union is registered by `vzaps_async.models.events`, where it exists).
- Unstructuring (requests) drops ``None`` values, so optional request fields are omitted, not sent
  as null.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType, NoneType, UnionType
from typing import Any, Final, NewType, TypeVar, Union, cast, get_args, get_origin

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

converter = cattrs.Converter(forbid_extra_keys=False, omit_if_default=False)

#: The default of a model's ``extra`` attribute: one shared, read-only, empty mapping.
EXTRA: Mapping[str, Any] = MappingProxyType({})

_MODELS: Final = "vzaps_async.models."
# Other wire names of model attributes, by ``<module under vzaps_async.models>.<class>``: the
# first name is read and written, the others are read in order when it is missing (forms seen
# across the SDKs). Names, not classes, so that no model module is imported for this table.
_WIRE_NAMES: Final[dict[str, dict[str, str | tuple[str, ...]]]] = {
    "groups.Group": {"jid": ("jid", "group_id", "JID"), "topic": ("topic", "description")},
    "groups.GroupInviteLink": {"invite_link": ("invite_link", "InviteLink", "link")},
    "groups.GroupPhoto": {"picture_id": ("picture_id", "PictureID")},
    "messages.MediaDownload": {"data": ("data", "file", "base64", "media")},
    "messages.MessageAction": {"message_id": ("message_id", "id")},
    "session.PairCode": {"code": ("LinkingCode", "linking_code")},
    "session.QRCode": {"qr_code": ("qr_code", "QRCode"), "status": ("status", "pairing_status")},
    "typebot.TypebotConfig": {"typebot_id": ("typebot_id", "id")},
    "typebot.TypebotSession": {"id": ("id", "session_id")},
    "webhook.WebhookConfig": {"events": ("subscribe", "events")},
}


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


def _open_enum_of(t: Any) -> type[enum.Enum] | None:
    # The model enum E of a field typed ``E | str`` or ``E | str | None``; None for other types.
    args = get_args(t) if get_origin(t) in (Union, UnionType) else ()
    others = [a for a in args if a is not str and a is not NoneType]
    if str not in args or len(others) != 1:
        return None
    enum_cls = others[0]
    if isinstance(enum_cls, type) and issubclass(enum_cls, enum.Enum):
        return enum_cls if enum_cls.__module__.startswith(_MODELS) else None
    return None


def _open_enum(t: Any) -> Callable[[Any, Any], Any]:
    # ``E | str``: unknown values stay plain strings instead of failing.
    members = {m.value: m for m in cast("type[enum.Enum]", _open_enum_of(t))}

    def structure(value: Any, _: Any) -> Any:
        return members.get(value, value if isinstance(value, str) else str(value))

    if NoneType not in get_args(t):
        return structure
    # cattrs does not split a three-way union with None on its own.
    return lambda v, t: None if v is None else structure(v, t)


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and t.__module__.startswith(_MODELS) and attrs.has(t)


def _wire(cls: type[Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, tuple[str, ...]]]:
    # cattrs overrides for ``cls`` (its other wire names, ``extra`` never on the wire), the
    # written name of each renamed attribute, and the spellings read after it.
    if not _is_model(cls):
        return {}, {}, {}
    wire_names = _WIRE_NAMES.get(f"{cls.__module__.removeprefix(_MODELS)}.{cls.__qualname__}", {})
    primary = {k: (v if isinstance(v, str) else v[0]) for k, v in wire_names.items()}
    alternates = {k: v[1:] for k, v in wire_names.items() if isinstance(v, tuple)}
    overrides: dict[str, Any] = {k: override(rename=v) for k, v in primary.items()}
    if "extra" in attrs.fields_dict(cls):
        overrides["extra"] = override(omit=True)
    return overrides, primary, alternates


def _structure_model(cls: type[Any], converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # How a model is read: other wire names, and its ``extra`` fields. When ``cls`` has an
    # attribute named ``extra``, every field of the payload that no attribute reads is kept
    # there (read-only); ``extra`` itself is never read from or written to the wire.
    overrides, primary, alternates = _wire(cls)
    base = make_dict_structure_fn(cls, converter, **overrides)
    keeps_extra = "extra" in overrides
    if not alternates and not keeps_extra:
        return base
    names = [a.name for a in attrs.fields(cls)]
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

    return structure


def _unstructure_attrs(cls: type[Any], converter: cattrs.Converter) -> Callable[[Any], Any]:
    # Requests: a model's wire names, and None fields left out (not sent as null).
    base = make_dict_unstructure_fn(cls, converter, **_wire(cls)[0])

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

    This module calls it once, on `converter`, when it loads. No model module is imported for
    it: the hooks of a model or an enum are built by cattrs the first time that type is read or
    written (hook factories, cached per type), with the hooks its field types have then, so a
    process pays only for the models it uses.

    Args:
        converter: The converter to configure.
    """
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
    # Closed sets the API documents (every enum of the models), open to values it adds later;
    # cattrs' own enum hook writes ``.value``.
    converter.register_structure_hook_factory(lambda t: _open_enum_of(t) is not None, _open_enum)
    # Models: their other wire names and ``extra`` fields; requests leave None fields out.
    converter.register_structure_hook_factory(_is_model, _structure_model)
    converter.register_unstructure_hook_factory(attrs.has, _unstructure_attrs)


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


configure_converter(converter)
