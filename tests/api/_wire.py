"""A recording HTTP double for the API tests.

`Wire` mocks the base URL with aioresponses: ``POST /token`` answers a JWT, every other request
is recorded (method, decoded path, query, headers, JSON body) and answered from a table of replies.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
from aioresponses import CallbackResult
from yarl import URL

BASE = "http://127.0.0.1:9"
JWT = "jwt-test-value"
CLIENT_TOKEN = "client-token-value"
INSTANCE_TOKEN = "inst_secret_token_value"
IID = "VZ9K2M4N8P1Q3R5S7T0WABCD01EF"


@attrs.frozen
class Call:
    """One recorded request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any

    @property
    def auth(self) -> str:
        """Which credentials the request carried: ``jwt``, ``instance`` or ``none``."""
        if "Authorization" in self.headers:
            return "jwt"
        if "X-Instance-Token" in self.headers:
            return "instance"
        return "none"


@attrs.define
class Wire:
    """Records requests and answers them from ``replies`` (default: an empty enveloped object)."""

    calls: list[Call] = attrs.Factory(list)
    replies: dict[tuple[str, str], list[tuple[int, Any]]] = attrs.Factory(dict)

    def reply(self, method: str, path: str, payload: Any = None, *, status: int = 200) -> None:
        """Queue an answer for ``method path`` (the last one queued repeats)."""
        self.replies.setdefault((method, path), []).append((status, payload))

    def callback(self, url: URL, **kwargs: Any) -> CallbackResult:
        method = kwargs.get("method", "")
        data = kwargs.get("data")
        headers = dict(kwargs.get("headers") or {})
        params = {k: str(v) for k, v in (kwargs.get("params") or {}).items()}
        params.update(dict(url.query))
        self.calls.append(
            Call(method, url.path, params, headers, json.loads(data) if data else None)
        )
        queue = self.replies.get((method, url.path))
        if not queue:
            return CallbackResult(status=200, payload={"code": 200, "success": True, "data": {}})
        status, payload = queue[0] if len(queue) == 1 else queue.pop(0)
        if payload is None:
            return CallbackResult(status=status, body=b"")
        return CallbackResult(status=status, payload=payload)

    @property
    def last(self) -> Call:
        """The most recent recorded request."""
        return self.calls[-1]


def envelope(data: Any) -> dict[str, Any]:
    """Wrap a payload in the API's ``{code, success, data}`` envelope."""
    return {"code": 200, "success": True, "data": data}
