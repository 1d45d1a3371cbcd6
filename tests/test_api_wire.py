"""A recording HTTP double for the API tests, and tests of how API calls authenticate on the wire.

`Wire` mocks the base URL with aioresponses: ``POST /token`` answers a JWT, every other request
is recorded (method, decoded path, query, headers, JSON body) and answered from a table of replies.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import attrs
import pytest
from aioresponses import CallbackResult, aioresponses
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from vzaps_async import ClientConfig, RetryPolicy
from vzaps_async._client import Client
from vzaps_async.api._base import instance_path, segment

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


@pytest.fixture(name="wire")
async def wire_fixture() -> AsyncIterator[Wire]:
    """A `Wire` mocking every route of the base URL for the duration of a test."""
    recorder = Wire()
    with aioresponses() as mocked:
        mocked.post(f"{BASE}/token", payload={"access_token": JWT, "expires_in": 3600}, repeat=True)
        pattern = re.compile(rf"^{re.escape(BASE)}/instances.*")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):

            def callback(url: URL, _method: str = method, **kwargs: Any) -> CallbackResult:
                return recorder.callback(url, method=_method, **kwargs)

            mocked.add(pattern, method=method, callback=callback, repeat=True)
        yield recorder


@pytest.fixture(name="client")
async def client_fixture() -> AsyncIterator[Client]:
    """A client pointed at the mocked base URL, with retries that do not sleep."""
    config = ClientConfig(base_url=BASE, retry=RetryPolicy(sleep=False, max_attempts=1))
    async with Client(CLIENT_TOKEN, "client-secret-value", config=config) as c:
        yield c


async def test_account_routes_send_the_jwt_and_client_token(wire: Wire, client: Client) -> None:
    """Account-level calls carry the Bearer JWT and X-Client-Token, never an instance token."""
    wire.reply("POST", "/instances/get", {"id": IID})
    await client.instances.get(IID)
    call = wire.last
    assert call.headers["Authorization"] == f"Bearer {JWT}"
    assert call.headers["X-Client-Token"] == CLIENT_TOKEN
    assert "X-Instance-Token" not in call.headers


async def test_instance_routes_send_the_instance_token(wire: Wire, client: Client) -> None:
    """Instance-scoped calls of a handle with a token send X-Instance-Token + X-Client-Token."""
    await client.instance(IID, INSTANCE_TOKEN).chats.pin("5511999999999")
    call = wire.last
    assert call.auth == "instance"
    assert call.headers["X-Instance-Token"] == INSTANCE_TOKEN
    assert call.headers["X-Client-Token"] == CLIENT_TOKEN


async def test_handle_without_token_uses_the_jwt(wire: Wire, client: Client) -> None:
    """A handle built without a token authenticates instance routes with the account JWT."""
    await client.instance(IID).chats.pin("5511999999999")
    assert wire.last.auth == "jwt"
    assert "X-Instance-Token" not in wire.last.headers


async def test_billing_on_a_handle_uses_the_jwt_even_with_a_token(
    wire: Wire, client: Client
) -> None:
    """Billing routes accept only the JWT, so the handle never sends its token there."""
    wire.reply("POST", f"/instances/{IID}/resume-subscription", {"status": "ok"})
    await client.instance(IID, INSTANCE_TOKEN).billing.resume()
    assert wire.last.auth == "jwt"
    assert "X-Instance-Token" not in wire.last.headers


async def test_jid_path_parameter_reaches_the_chat_route(wire: Wire, client: Client) -> None:
    """A group JID given as the chat target is sent as one path segment of the chat route."""
    wire.reply("GET", f"/instances/{IID}/chats/123-456@g.us", {"jid": "123-456@g.us"})
    chat = await client.instance(IID, INSTANCE_TOKEN).chats.get("123-456@g.us")
    assert wire.last.path == f"/instances/{IID}/chats/123-456@g.us"
    assert chat.jid == "123-456@g.us"


def test_path_segments_are_quoted_completely() -> None:
    """Path parameters are quoted with no safe characters, so '/' and '@' cannot split a route."""
    assert instance_path("VZ1", "chats", "a/b@g.us") == "/instances/VZ1/chats/a%2Fb%40g.us"


@given(st.text())
def test_segment_quotes_exactly_like_urllib(value: str) -> None:
    """The unreserved-only shortcut gives the same segment as quoting every character."""
    assert segment(value) == quote(value, safe="")


def test_instance_repr_hides_the_token(client: Client) -> None:
    """The handle's repr shows its id and never the token."""
    handle = client.instance(IID, INSTANCE_TOKEN)
    text = repr(handle)
    assert IID in text
    assert INSTANCE_TOKEN not in text
    assert INSTANCE_TOKEN not in repr(handle.session) + repr(handle.messages)
