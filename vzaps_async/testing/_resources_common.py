"""Request plumbing shared by the resource route modules: context and settings.

The resource routes (§2.6-§2.12 of the contract: chat, queues, users, contacts, groups, chats,
integrations) keep their state in each instance's `ResourceStore`. Behaviour choices the contract
leaves open are in `ResourceSettings`, kept in the app under `RESOURCE_SETTINGS_KEY`.
Deterministic lookups: numbers ending in 0 are "not on WhatsApp" (``user/check`` answers
``exists: false``, ``user/avatar`` answers 404).
"""

from __future__ import annotations

import asyncio

import attrs
from aiohttp import web

from ._auth import authorize_instance, get_state
from ._http import SimError
from ._model import SimInstance
from ._resources_store import ResourceLimits, ResourceStore
from ._state import SimState

__all__ = ["RESOURCE_SETTINGS_KEY", "Ctx", "ResourceSettings", "context", "store_of"]


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
    store = instance.resources
    if store is None:
        store = instance.resources = ResourceStore(limits, state.clock)
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
            if state.registry.holds(instance):
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
