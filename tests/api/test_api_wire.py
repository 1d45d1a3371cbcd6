"""How API calls authenticate on the wire."""

from __future__ import annotations

from urllib.parse import quote

from _wire import CLIENT_TOKEN, IID, INSTANCE_TOKEN, JWT, Wire
from hypothesis import given
from hypothesis import strategies as st

from vzaps_async._client import Client
from vzaps_async.api._base import instance_path, segment


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
