"""Request plumbing shared by the resource route modules: context, settings, field validation.

Validation failures answer 400 ``VALIDATION_ERROR`` with a message that starts with the field
name (``"phone: is required"``), so a client can tell which field to fix.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import attrs
from aiohttp import web

from ._auth import authorize_instance, get_state
from ._http import SimError
from ._resources_store import ResourceLimits, ResourceStore, Target, parse_target
from ._state import SimInstance, SimState

__all__ = [
    "RESOURCE_SETTINGS_KEY",
    "Ctx",
    "ResourceSettings",
    "context",
    "invalid",
    "opt_bool",
    "opt_int",
    "opt_str",
    "page_of",
    "req_number",
    "req_str",
    "req_str_list",
    "req_target",
    "store_of",
]

_STORE_KEY = "resources"


@attrs.define
class ResourceSettings:
    """Behaviour of the resource routes where the contract leaves a choice open.

    Args:
        require_connected_for_sends: Refuse sends and message actions with 409
            ``NOT_CONNECTED`` while the instance's WhatsApp session is not connected. Off by
            default: messages are then accepted and stay queued until the instance connects.
        limits: Caps on per-instance stored state.
    """

    require_connected_for_sends: bool = False
    limits: ResourceLimits = attrs.Factory(ResourceLimits)


#: Where the app keeps the `ResourceSettings` (mutable, so tests can flip flags on a running app).
RESOURCE_SETTINGS_KEY: web.AppKey[ResourceSettings] = web.AppKey(
    "vzaps_sim_resource_settings", ResourceSettings
)


def store_of(state: SimState, instance: SimInstance, limits: ResourceLimits) -> ResourceStore:
    """The instance's resource store, created on first use.

    Args:
        state: The simulator state (its clock drives the store).
        instance: The instance.
        limits: Caps for a new store.
    """
    store = instance.extras.get(_STORE_KEY)
    if not isinstance(store, ResourceStore):
        store = ResourceStore(limits, state.clock)
        instance.extras[_STORE_KEY] = store
    return store


@attrs.frozen
class Ctx:
    """Everything a resource handler needs about its request.

    Args:
        state: The simulator state.
        instance: The authorized instance.
        store: Its resource store (due queue entries already delivered).
        settings: Route settings.
    """

    state: SimState
    instance: SimInstance
    store: ResourceStore
    settings: ResourceSettings

    @property
    def connected(self) -> bool:
        """Whether the instance's WhatsApp session is connected."""
        return bool(self.instance.connected)

    @property
    def own_phone(self) -> str:
        """The connected account's phone ("" before the first pairing)."""
        return self.instance.phone or ""

    @property
    def own_jid(self) -> str:
        """The connected account's JID ("" before the first pairing)."""
        return self.instance.whatsapp_jid or ""

    @property
    def own_name(self) -> str:
        """The connected account's push name (falls back to the instance name)."""
        return self.instance.push_name or self.instance.name

    def require_connected(self) -> None:
        """Refuse with 409 ``NOT_CONNECTED`` when configured so and not connected."""
        if self.settings.require_connected_for_sends and not self.connected:
            raise SimError(409, "NOT_CONNECTED", "instance is not connected to WhatsApp")

    def deliver_later(self, delay: float) -> None:
        """Arm a loop timer so a delayed entry is delivered without waiting for a request.

        Args:
            delay: Seconds from now.
        """
        state, instance, store = self.state, self.instance, self.store

        def fire() -> None:
            if state.instances.get(instance.id) is instance:
                store.deliver_due(instance.delivering)

        asyncio.get_running_loop().call_later(delay, fire)


async def context(request: web.Request) -> Ctx:
    """Authorize the request's instance and deliver whatever became due in its queues.

    Args:
        request: The request (route must have an ``{id}`` parameter).
    """
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    settings = request.app[RESOURCE_SETTINGS_KEY]
    store = store_of(state, instance, settings.limits)
    store.deliver_due(instance.delivering)
    return Ctx(state, instance, store, settings)


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
