"""Models and enums shared by several endpoint groups."""

from __future__ import annotations

import enum
from typing import Any, TypeAlias, TypeVar

import attrs

from vzaps_async._convert import open_enum
from vzaps_async.models.events import EventType

__all__ = [
    "ActionResult",
    "EventType",
    "RawJSON",
    "RawPage",
]

E = TypeVar("E", bound=enum.Enum)

#: The type of a response whose shape the API does not document: a decoded JSON object or array.
RawJSON: TypeAlias = dict[str, Any] | list[Any]


# One EventType for the whole package: the event models define it, request fields reuse it.
open_enum(EventType)


@attrs.frozen
class ActionResult:
    """The result of an action on an instance (restart, disconnect, mark-read).

    Args:
        instance_id: The instance acted on.
        status: What the server reports; the values are undocumented, so this is a plain string.
        details: A human-readable description.
    """

    instance_id: str | None = None
    status: str | None = None
    details: str | None = None


@attrs.frozen
class RawPage:
    """One page of a list whose items the API does not document; items are decoded JSON objects.

    Args:
        items: The items of this page.
        page: The page number (1-based), when the server reports it.
        size: The page size, when the server reports it.
        total: The number of items over all pages, when the server reports it.
        total_pages: The number of pages, when the server reports it.
    """

    items: tuple[dict[str, Any], ...] = ()
    page: int | None = None
    size: int | None = None
    total: int | None = None
    total_pages: int | None = None
