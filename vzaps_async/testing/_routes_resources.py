"""Resource routes of the simulator: chat, queues, users, contacts, groups, chats, integrations.

`setup` registers every route of §2.6-§2.12 of the contract. The state behind them lives in each
instance's ``extras`` bag (see `_resources_store`). Behaviour choices the contract leaves open
are in `ResourceSettings`, kept in the app under `RESOURCE_SETTINGS_KEY`:

- ``require_connected_for_sends`` (default False): when True, sends and message actions answer
  409 ``NOT_CONNECTED`` while the instance is not connected; when False they are accepted and
  wait in the instance's queue until it connects.
- ``limits``: caps on remembered messages, queue entries and chats per instance.

Deterministic lookups: numbers ending in 0 are "not on WhatsApp" (``user/check`` answers
``exists: false``, ``user/avatar`` answers 404).
"""

from __future__ import annotations

from aiohttp import web

from ._resources_chat import setup_chat_routes
from ._resources_common import RESOURCE_SETTINGS_KEY, ResourceSettings
from ._resources_directory import setup_directory_routes
from ._resources_integrations import setup_integration_routes
from ._resources_store import ResourceLimits
from ._state import SimState

__all__ = ["RESOURCE_SETTINGS_KEY", "ResourceLimits", "ResourceSettings", "setup"]


def setup(app: web.Application, state: SimState, settings: ResourceSettings | None = None) -> None:
    """Register the resource routes on the simulator app.

    Args:
        app: The simulator app (its ``STATE_KEY`` must hold ``state``).
        state: The simulator state.
        settings: Route settings; by default taken from ``state.config``.
    """
    if settings is None:
        settings = ResourceSettings(
            require_connected_for_sends=state.config.require_connected_for_sends
        )
    app[RESOURCE_SETTINGS_KEY] = settings
    setup_chat_routes(app)
    setup_directory_routes(app)
    setup_integration_routes(app)
