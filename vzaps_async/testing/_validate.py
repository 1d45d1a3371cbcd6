"""Request validation shared by every simulator route module: one error form, one set of readers.

A failure answers 400 ``VALIDATION_ERROR`` with a message that starts with the field name
(``"phone: is required"``), so a client can tell which field to fix; unknown event names answer
400 ``INVALID_EVENT``.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from ._http import SimError
from ._model import EVENT_NAMES
from ._resources_store import Target, parse_target

__all__ = [
    "event_names",
    "invalid",
    "opt_bool",
    "opt_int",
    "opt_str",
    "page_of",
    "req_number",
    "req_str",
    "req_str_list",
    "req_target",
]


def invalid(field: str, problem: str) -> SimError:
    """A 400 ``VALIDATION_ERROR`` naming the field.

    Args:
        field: Field name.
        problem: What is wrong.
    """
    return SimError(400, "VALIDATION_ERROR", f"{field}: {problem}")


def _first(body: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        value = body.get(name)
        if value is not None:
            return name, value
    return names[0], None


def req_str(body: dict[str, Any], *names: str) -> str:
    """A required non-empty string; the first of ``names`` present wins (wire aliases).

    Args:
        body: Request body.
        names: Accepted field names, preferred first.
    """
    name, value = _first(body, names)
    if value is None:
        raise invalid(names[0], "is required")
    if not isinstance(value, str) or not value.strip():
        raise invalid(name, "must be a non-empty string")
    return value


def opt_str(body: dict[str, Any], *names: str) -> str | None:
    """An optional string (None when absent).

    Args:
        body: Request body.
        names: Accepted field names, preferred first.
    """
    name, value = _first(body, names)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def opt_bool(body: dict[str, Any], name: str) -> bool | None:
    """An optional boolean.

    Args:
        body: Request body.
        name: Field name.
    """
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid(name, "must be a boolean")
    return value


def opt_int(body: dict[str, Any], name: str, *, minimum: int | None = None) -> int | None:
    """An optional integer, with an optional lower bound.

    Args:
        body: Request body.
        name: Field name.
        minimum: Smallest accepted value.
    """
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "must be an integer")
    if minimum is not None and value < minimum:
        raise invalid(name, f"must be >= {minimum}")
    return value


def req_number(body: dict[str, Any], name: str, low: float, high: float) -> float:
    """A required finite number within ``[low, high]``.

    Args:
        body: Request body.
        name: Field name.
        low: Lower bound.
        high: Upper bound.
    """
    value = body.get(name)
    if value is None:
        raise invalid(name, "is required")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(name, "must be a number")
    if not low <= value <= high:
        raise invalid(name, f"must be between {low:g} and {high:g}")
    return float(value)


def req_str_list(body: dict[str, Any], name: str, *, allow_single: bool = False) -> list[str]:
    """A required non-empty list of non-empty strings.

    Args:
        body: Request body.
        name: Field name.
        allow_single: Also accept one bare string (some SDKs send a scalar).
    """
    value = body.get(name)
    if value is None:
        raise invalid(name, "is required")
    if allow_single and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise invalid(name, "must be a non-empty array of strings")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise invalid(name, "every item must be a non-empty string")
    return list(value)


def req_target(body: dict[str, Any], name: str = "phone") -> Target:
    """A required chat address: country-code digits (no ``+``), a group id or a full JID.

    Args:
        body: Request body.
        name: Field name.
    """
    value = body.get(name)
    if value is None:
        raise invalid(name, "is required")
    target = parse_target(value)
    if target is None:
        raise invalid(name, "must be digits with country code (no '+'), a group id or a JID")
    return target


def event_names(field: str, value: Any) -> list[str]:
    """Event names as an array or a comma string, deduplicated in order; unknown names refused.

    Args:
        field: Field name.
        value: The field's value (``None`` = no names).
    """
    if value is None:
        return []
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        names = [item.strip() for item in value if item.strip()]
    else:
        raise invalid(field, "must be an array of event names or a comma string")
    unknown = [name for name in names if name not in EVENT_NAMES]
    if unknown:
        raise SimError(
            400,
            "INVALID_EVENT",
            f"{field}: unknown event name(s): {', '.join(unknown)}; valid names: "
            + ", ".join(sorted(EVENT_NAMES)),
        )
    return list(dict.fromkeys(names))


def page_of(request: web.Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Slice a list by the ``page`` (1-based) and ``page_size`` query parameters.

    Answers ``{content, page, page_size, total, total_pages}`` like the instance list.

    Args:
        request: The request.
        items: Everything, in display order.
    """
    page = _query_int(request, "page", 1, 1, 1_000_000)
    size = _query_int(request, "page_size", 50, 1, 1000)
    total = len(items)
    start = (page - 1) * size
    return {
        "content": items[start : start + size],
        "page": page,
        "page_size": size,
        "total": total,
        "total_pages": (total + size - 1) // size,
    }


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "must be an integer") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value
