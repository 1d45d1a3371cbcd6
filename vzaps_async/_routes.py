"""Route templates of request paths: one label per route for metrics and traces."""

from __future__ import annotations

import re

__all__ = ["route_template"]

# A path segment that is data rather than a route name: anything but lower-case words.
_DATA_SEGMENT = re.compile(r"[^a-z_-]")


def route_template(path: str) -> str:
    """Turn a request path into its route template, so metrics have one series per route.

    ``/instances/VZ123/session/paircode/5511999999999`` becomes
    ``/instances/{id}/session/paircode/{param}``.

    Args:
        path: The request path.
    """
    parts = path.split("/")
    for index, part in enumerate(parts):
        if index > 1 and parts[index - 1] == "instances" and part not in _INSTANCE_ROUTES:
            parts[index] = "{id}"
        elif part and _DATA_SEGMENT.search(part):
            parts[index] = "{param}"
    return "/".join(parts)


# Account-level routes under /instances/ whose second segment is a name, not an id.
_INSTANCE_ROUTES = frozenset({"create", "list", "get", "provision", "search"})
