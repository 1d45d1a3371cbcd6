"""Session layer: auth, envelope, error mapping, retries and pacing, checked on the wire with
aioresponses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from vzaps_async._config import ClientConfig, Limits, RetryPolicy
from vzaps_async._limits import CoolDown, RateLimiter
from vzaps_async._retry import backoff_delay, parse_retry_after
from vzaps_async._secret import Secret
from vzaps_async._transport import RequestDeadline, RequestInfo, ResponseInfo, Transport
from vzaps_async.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    InputError,
    NotFoundError,
    OutcomeUnknownError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitedError,
    RequestNotSent,
    RequestTimeout,
    ResponseError,
    ServerError,
    TransportError,
)

BASE = "http://127.0.0.1:9"
CLIENT_TOKEN = "ct_live_client_token_0123456789"
CLIENT_SECRET = "cs_live_client_secret_0123456789"
JWT = "eyJhbGciOi.jwt-payload-0123456789.signature"
INSTANCE_TOKEN = "inst_0123456789abcdefghij"
TOKEN_URL = f"{BASE}/token"


def make_transport(**retry: Any) -> Transport:
    policy = RetryPolicy(sleep=False, **retry)
    return Transport(
        ClientConfig(base_url=BASE, retry=policy),
        Secret(CLIENT_TOKEN),
        Secret(CLIENT_SECRET),
    )


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    t = make_transport()
    yield t
    await t.aclose()


@pytest.fixture
def mock() -> Any:
    with aioresponses() as m:
        yield m


def token_ok(mock: Any, *, repeat: bool = True, jwt: str = JWT) -> None:
    mock.post(TOKEN_URL, payload={"access_token": jwt, "expires_in": 3600}, repeat=repeat)


def calls(mock: Any, method: str, url: str) -> list[Any]:
    return list(mock.requests.get((method, URL(url)), []))


async def test_envelope_is_unwrapped(transport: Transport, mock: Any) -> None:
    """A `{code, success, data}` body yields its `data`."""
    token_ok(mock)
    mock.get(f"{BASE}/x", payload={"code": 200, "success": True, "data": {"a": 1}})
    assert await transport.request("GET", "/x") == {"a": 1}


async def test_flat_body_and_empty_body(transport: Transport, mock: Any) -> None:
    """A body without the envelope is returned whole, and an empty 204 gives None."""
    token_ok(mock)
    mock.put(f"{BASE}/instances/create", payload={"id": "VZ1", "token": "t"})
    mock.delete(f"{BASE}/instances/VZ1", status=204, body=b"")
    assert await transport.request("PUT", "/instances/create", json={}) == {
        "id": "VZ1",
        "token": "t",
    }
    assert await transport.request("DELETE", "/instances/VZ1") is None


async def test_jwt_headers_and_body_on_the_wire(transport: Transport, mock: Any) -> None:
    """Account routes send Bearer JWT and X-Client-Token; POST /token sends the credentials."""
    token_ok(mock)
    mock.post(f"{BASE}/instances/list", payload={"content": []})
    await transport.request("POST", "/instances/list", json={"page": 1})
    (token_call,) = calls(mock, "POST", TOKEN_URL)
    assert json.loads(token_call.kwargs["data"]) == {
        "client_token": CLIENT_TOKEN,
        "client_secret": CLIENT_SECRET,
    }
    (call,) = calls(mock, "POST", f"{BASE}/instances/list")
    headers = call.kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {JWT}"
    assert headers["X-Client-Token"] == CLIENT_TOKEN
    assert headers["Content-Type"] == "application/json"
    assert json.loads(call.kwargs["data"]) == {"page": 1}


async def test_instance_auth_uses_instance_token_without_jwt(
    transport: Transport, mock: Any
) -> None:
    """Instance routes with a token send X-Instance-Token + X-Client-Token and never fetch a JWT."""
    mock.get(
        f"{BASE}/instances/VZ1/session/status",
        payload={"data": {"connected": False}, "success": True},
    )
    await transport.request(
        "GET",
        "/instances/VZ1/session/status",
        auth="instance",
        instance_token=Secret(INSTANCE_TOKEN),
    )
    (call,) = calls(mock, "GET", f"{BASE}/instances/VZ1/session/status")
    assert call.kwargs["headers"]["X-Instance-Token"] == INSTANCE_TOKEN
    assert call.kwargs["headers"]["X-Client-Token"] == CLIENT_TOKEN
    assert "Authorization" not in call.kwargs["headers"]
    assert calls(mock, "POST", TOKEN_URL) == []


async def test_instance_auth_without_token_falls_back_to_jwt(
    transport: Transport, mock: Any
) -> None:
    """An instance route without an instance token authenticates with the owner's JWT."""
    token_ok(mock)
    mock.get(f"{BASE}/instances/VZ1/webhook", payload={"success": True, "data": {}})
    await transport.request("GET", "/instances/VZ1/webhook", auth="instance")
    (call,) = calls(mock, "GET", f"{BASE}/instances/VZ1/webhook")
    assert call.kwargs["headers"]["Authorization"] == f"Bearer {JWT}"


async def test_token_cached_and_refreshed_single_flight(transport: Transport, mock: Any) -> None:
    """50 concurrent first calls share exactly one POST /token, and later calls reuse the JWT."""
    token_ok(mock, repeat=True)
    mock.get(f"{BASE}/ping", payload={"ok": True}, repeat=True)
    await asyncio.gather(*(transport.request("GET", "/ping") for _ in range(50)))
    await transport.request("GET", "/ping")
    assert len(calls(mock, "POST", TOKEN_URL)) == 1
    assert len(calls(mock, "GET", f"{BASE}/ping")) == 51


async def test_callers_waiting_for_a_failed_token_fetch_share_its_error(mock: Any) -> None:
    """Ten callers waiting for one JWT refresh that POST /token refuses all get its
    AuthenticationError from that one fetch; a call after it tries again."""
    transport = make_transport(max_attempts=1)

    async def refused(url: URL, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(0.01)  # the other callers queue while the refresh is out
        return CallbackResult(status=401, payload={"error": "invalid client credentials"})

    try:
        mock.post(TOKEN_URL, callback=refused)
        token_ok(mock)
        mock.get(f"{BASE}/a", payload={}, repeat=True)
        results = await asyncio.gather(
            *(transport.request("GET", "/a") for _ in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, AuthenticationError) for r in results), results
        assert len(calls(mock, "POST", TOKEN_URL)) == 1
        assert calls(mock, "GET", f"{BASE}/a") == []
        assert await transport.request("GET", "/a") == {}
        assert len(calls(mock, "POST", TOKEN_URL)) == 2
    finally:
        await transport.aclose()


async def test_a_token_fetch_survives_cancelled_waiters_and_a_cancelled_fetcher() -> None:
    """A waiter cancelled during a refresh leaves it running for the others; when the caller
    running it is cancelled, a waiter runs a fresh one and every other waiter gets its token."""
    from vzaps_async._auth import TokenManager

    fetches = 0
    refetched = asyncio.Event()
    release = asyncio.Event()

    async def fetch() -> tuple[str, float]:
        nonlocal fetches
        fetches += 1
        if fetches == 2:
            refetched.set()
        await release.wait()
        return f"jwt-{fetches}", 3600.0

    tokens = TokenManager(fetch, skew=30)
    fetcher = asyncio.create_task(tokens.get())
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(tokens.get()) for _ in range(3)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    fetcher.cancel()
    async with asyncio.timeout(5):
        await refetched.wait()  # a waiter runs the refresh again
        release.set()
        results = await asyncio.gather(*waiters, return_exceptions=True)
    assert fetcher.cancelled()
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == ["jwt-2", "jwt-2"]
    assert tokens.current() == "jwt-2"


async def test_token_refreshed_after_expiry(transport: Transport, mock: Any) -> None:
    """A JWT is refetched once its lifetime (less the skew) has passed."""
    mock.post(TOKEN_URL, payload={"access_token": JWT, "expires_in": 0.001}, repeat=True)
    mock.get(f"{BASE}/ping", payload={}, repeat=True)
    await transport.request("GET", "/ping")
    await asyncio.sleep(0.01)
    await transport.request("GET", "/ping")
    assert len(calls(mock, "POST", TOKEN_URL)) == 2


async def test_token_read_from_envelope_and_camel_case(transport: Transport, mock: Any) -> None:
    """The token response is also read under `data` and in camelCase."""
    mock.post(
        TOKEN_URL, payload={"success": True, "data": {"accessToken": "jwt2", "expiresIn": 60}}
    )
    mock.get(f"{BASE}/ping", payload={})
    await transport.request("GET", "/ping")
    (call,) = calls(mock, "GET", f"{BASE}/ping")
    assert call.kwargs["headers"]["Authorization"] == "Bearer jwt2"


async def test_token_response_without_access_token(transport: Transport, mock: Any) -> None:
    """A token response with no access_token raises ResponseError naming the missing key."""
    mock.post(TOKEN_URL, payload={"token": "x"})
    with pytest.raises(ResponseError, match="access_token"):
        await transport.request("GET", "/ping")


async def test_401_reauths_once_and_replays(transport: Transport, mock: Any) -> None:
    """A 401 on a JWT request refreshes the token and replays the request once."""
    mock.post(TOKEN_URL, payload={"access_token": "old", "expires_in": 3600})
    mock.post(TOKEN_URL, payload={"access_token": "new", "expires_in": 3600})
    mock.post(f"{BASE}/instances/VZ1/subscribe", status=401, payload={"error": "jwt expired"})
    mock.post(
        f"{BASE}/instances/VZ1/subscribe", payload={"success": True, "data": {"mode": "direct"}}
    )
    result = await transport.request("POST", "/instances/VZ1/subscribe", json={})
    assert result == {"mode": "direct"}
    sent = calls(mock, "POST", f"{BASE}/instances/VZ1/subscribe")
    assert [c.kwargs["headers"]["Authorization"] for c in sent] == ["Bearer old", "Bearer new"]


async def test_second_401_raises(transport: Transport, mock: Any) -> None:
    """When the fresh token is refused too, AuthenticationError is raised (no loop)."""
    token_ok(mock)
    mock.get(f"{BASE}/x", status=401, payload={"message": "nope"}, repeat=True)
    with pytest.raises(AuthenticationError):
        await transport.request("GET", "/x")
    assert len(calls(mock, "GET", f"{BASE}/x")) == 2


async def test_bad_client_credentials(transport: Transport, mock: Any) -> None:
    """A 401 from POST /token raises AuthenticationError without retrying."""
    mock.post(TOKEN_URL, status=401, payload={"error": "invalid client credentials"})
    with pytest.raises(AuthenticationError, match="invalid client credentials"):
        await transport.request("GET", "/x")
    assert len(calls(mock, "POST", TOKEN_URL)) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, BadRequestError),
        (418, APIError),
    ],
)
async def test_error_classes(transport: Transport, mock: Any, status: int, cls: type) -> None:
    """Each error status maps to its exception class, keeping status, code, message, path and id."""
    token_ok(mock)
    body = {"code": status, "success": False, "error": "it failed", "error_code": "SOME_CODE"}
    mock.post(
        f"{BASE}/instances/VZ1/subscribe",
        status=status,
        payload=body,
        headers={"X-Request-Id": "req-1"},
    )
    with pytest.raises(cls) as info:
        await transport.request("POST", "/instances/VZ1/subscribe", json={})
    err = info.value
    assert type(err) is cls
    assert (err.status, err.code, err.message) == (status, "SOME_CODE", "it failed")
    assert (err.method, err.path, err.request_id) == ("POST", "/instances/VZ1/subscribe", "req-1")
    assert err.body == body


async def test_401_with_instance_token_raises(transport: Transport, mock: Any) -> None:
    """A 401 on instance-token auth cannot be fixed by a JWT refresh and is raised."""
    mock.get(f"{BASE}/instances/VZ1/session/qr", status=401, payload={"message": "bad token"})
    with pytest.raises(AuthenticationError):
        await transport.request(
            "GET",
            "/instances/VZ1/session/qr",
            auth="instance",
            instance_token=Secret(INSTANCE_TOKEN),
        )


async def test_error_message_alternatives(transport: Transport, mock: Any) -> None:
    """The message is read from errors[0].message and a string `code` is the error code."""
    token_ok(mock)
    mock.get(
        f"{BASE}/a",
        status=400,
        payload={"errors": [{"message": "name too short"}], "code": "VALIDATION"},
    )
    with pytest.raises(BadRequestError) as info:
        await transport.request("GET", "/a")
    assert (info.value.message, info.value.code) == ("name too short", "VALIDATION")


async def test_html_502_gives_typed_error(transport: Transport, mock: Any) -> None:
    """An HTML 502 page from a proxy becomes ServerError carrying the text, after retries."""
    token_ok(mock)
    mock.get(
        f"{BASE}/a",
        status=502,
        body="<html>Bad Gateway</html>",
        content_type="text/html",
        repeat=True,
    )
    with pytest.raises(ServerError) as info:
        await transport.request("GET", "/a")
    assert info.value.status == 502
    assert "Bad Gateway" in info.value.body
    assert len(calls(mock, "GET", f"{BASE}/a")) == 4


async def test_non_json_success_body(transport: Transport, mock: Any) -> None:
    """A 200 whose body is not JSON raises ResponseError with a preview of the body."""
    token_ok(mock)
    mock.get(f"{BASE}/a", status=200, body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(ResponseError, match="not JSON") as info:
        await transport.request("GET", "/a")
    assert "maintenance" in info.value.body


async def test_envelope_with_success_false(transport: Transport, mock: Any) -> None:
    """A 200 envelope with success false is an error of the envelope's code."""
    token_ok(mock)
    mock.get(f"{BASE}/a", payload={"code": 404, "success": False, "data": None, "error": "gone"})
    with pytest.raises(NotFoundError, match="gone"):
        await transport.request("GET", "/a")


@pytest.mark.parametrize("header_form", ["seconds", "http-date"])
async def test_429_retry_after_both_forms(mock: Any, header_form: str) -> None:
    """429 with Retry-After (seconds or HTTP date) is retried and pauses the whole client."""
    transport = make_transport()
    try:
        token_ok(mock)
        if header_form == "seconds":
            retry_after = "7"
        else:
            retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=7), usegmt=True)
        mock.post(
            f"{BASE}/instances/create",
            status=429,
            payload={"error": "slow down"},
            headers={"Retry-After": retry_after},
        )
        mock.post(f"{BASE}/instances/create", payload={"id": "VZ1"})
        # A non-idempotent call is retried after 429: the server refused it unread.
        assert await transport.request("POST", "/instances/create", json={"name": "abc"}) == {
            "id": "VZ1"
        }
        assert len(calls(mock, "POST", f"{BASE}/instances/create")) == 2
        assert 5 < transport.cooldown.remaining <= 7
    finally:
        await transport.aclose()


async def test_429_exhausted_raises_with_retry_after(mock: Any) -> None:
    """When every attempt is refused, RateLimitedError carries retry_after."""
    transport = make_transport(max_attempts=2)
    try:
        token_ok(mock)
        mock.get(f"{BASE}/a", status=429, headers={"Retry-After": "3"}, payload={}, repeat=True)
        with pytest.raises(RateLimitedError) as info:
            await transport.request("GET", "/a")
        assert info.value.retry_after == 3
        assert len(calls(mock, "GET", f"{BASE}/a")) == 2
    finally:
        await transport.aclose()


async def test_429_retry_after_too_long_is_raised(transport: Transport, mock: Any) -> None:
    """A Retry-After beyond max_retry_after is raised at once instead of waited for."""
    token_ok(mock)
    mock.get(f"{BASE}/a", status=429, headers={"Retry-After": "3600"}, payload={}, repeat=True)
    with pytest.raises(RateLimitedError):
        await transport.request("GET", "/a")
    assert len(calls(mock, "GET", f"{BASE}/a")) == 1


async def test_idempotent_retries_5xx_timeouts_and_drops(transport: Transport, mock: Any) -> None:
    """An idempotent call is retried after 5xx, a timeout and a dropped connection."""
    token_ok(mock)
    url = f"{BASE}/instances/VZ1/session/status"
    mock.get(url, status=503, payload={"error": "busy"})
    mock.get(url, exception=TimeoutError())
    mock.get(url, exception=aiohttp.ServerDisconnectedError())
    mock.get(url, payload={"success": True, "data": {"connected": True}})
    assert await transport.request("GET", "/instances/VZ1/session/status") == {"connected": True}
    assert len(calls(mock, "GET", url)) == 4


async def test_timed_out_create_is_not_retried(transport: Transport, mock: Any) -> None:
    """A timed-out create raises OutcomeUnknownError after exactly one attempt."""
    token_ok(mock)
    mock.put(f"{BASE}/instances/create", exception=TimeoutError(), repeat=True)
    with pytest.raises(OutcomeUnknownError) as info:
        await transport.request("PUT", "/instances/create", json={"name": "shop-01"})
    assert info.value.path == "/instances/create"
    assert len(calls(mock, "PUT", f"{BASE}/instances/create")) == 1


@pytest.mark.parametrize(
    "failure",
    [aiohttp.ServerDisconnectedError(), aiohttp.ClientOSError(104, "reset"), "500"],
)
async def test_lost_non_idempotent_raises_outcome_unknown(
    transport: Transport, mock: Any, failure: Any
) -> None:
    """A send whose connection dropped or that got a 5xx is not retried: its outcome is unknown."""
    token_ok(mock)
    url = f"{BASE}/instances/VZ1/chat/send/text"
    if failure == "500":
        mock.post(url, status=500, payload={"error": "boom"}, repeat=True)
    else:
        mock.post(url, exception=failure, repeat=True)
    with pytest.raises(OutcomeUnknownError):
        await transport.request(
            "POST", "/instances/VZ1/chat/send/text", json={"phone": "1", "message": "x"}
        )
    assert len(calls(mock, "POST", url)) == 1


async def test_connect_error_retried_even_for_create(transport: Transport, mock: Any) -> None:
    """A create that never reached the server (connection refused) is retried."""
    token_ok(mock)
    url = f"{BASE}/instances/create"
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None),
        OSError(111, "Connection refused"),
    )
    mock.put(url, exception=refused)
    mock.put(url, payload={"id": "VZ1"})
    assert await transport.request("PUT", "/instances/create", json={"name": "abc"}) == {
        "id": "VZ1"
    }
    assert len(calls(mock, "PUT", url)) == 2


async def test_connect_error_exhausted(mock: Any) -> None:
    """When the server cannot be reached at all, ConnectError is raised after the last attempt."""
    transport = make_transport(max_attempts=3)
    try:
        token_ok(mock)
        refused = aiohttp.ClientConnectorError(
            aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None),
            OSError(111, "Connection refused"),
        )
        mock.get(f"{BASE}/a", exception=refused, repeat=True)
        with pytest.raises(ConnectError):
            await transport.request("GET", "/a")
        assert len(calls(mock, "GET", f"{BASE}/a")) == 3
    finally:
        await transport.aclose()


async def test_idempotent_timeout_exhausted(mock: Any) -> None:
    """An idempotent call that always times out raises RequestTimeout."""
    transport = make_transport(max_attempts=2)
    try:
        token_ok(mock)
        mock.get(f"{BASE}/a", exception=TimeoutError(), repeat=True)
        with pytest.raises(RequestTimeout):
            await transport.request("GET", "/a")
    finally:
        await transport.aclose()


async def test_read_only_post_marked_idempotent_is_retried(transport: Transport, mock: Any) -> None:
    """A POST marked idempotent (a list) is retried after a 5xx."""
    token_ok(mock)
    url = f"{BASE}/instances/list"
    mock.post(url, status=500, payload={})
    mock.post(url, payload={"content": []})
    assert await transport.request("POST", "/instances/list", json={}, idempotent=True) == {
        "content": []
    }


async def test_query_params_encoding(transport: Transport, mock: Any) -> None:
    """Booleans become true/false and None values are dropped from the query."""
    token_ok(mock)
    mock.get(f"{BASE}/g?group_id=1%40g.us&reset=true", payload={})
    await transport.request("GET", "/g", params={"group_id": "1@g.us", "reset": True, "x": None})
    assert calls(mock, "GET", f"{BASE}/g?group_id=1%40g.us&reset=true")


async def test_hooks_see_every_attempt(mock: Any) -> None:
    """Request and response hooks are called for each attempt with method, path and status."""
    seen: list[RequestInfo | ResponseInfo] = []
    transport = Transport(
        ClientConfig(base_url=BASE, retry=RetryPolicy(sleep=False)),
        Secret(CLIENT_TOKEN),
        Secret(CLIENT_SECRET),
        on_request=seen.append,
        on_response=seen.append,
    )
    try:
        token_ok(mock)
        mock.get(f"{BASE}/a", status=500, payload={})
        mock.get(f"{BASE}/a", payload={})
        await transport.request("GET", "/a")
    finally:
        await transport.aclose()
    a_events = [e for e in seen if e.path == "/a"]
    assert [(type(e).__name__, e.attempt) for e in a_events] == [
        ("RequestInfo", 1),
        ("ResponseInfo", 1),
        ("RequestInfo", 2),
        ("ResponseInfo", 2),
    ]
    assert [e.status for e in a_events if isinstance(e, ResponseInfo)] == [500, 200]


async def test_secrets_never_in_logs_reprs_or_errors(
    mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Client secret, JWT and instance token appear in no log record, repr or exception text."""
    caplog.set_level(logging.DEBUG, logger="vzaps_async")
    transport = make_transport(max_attempts=2)
    errors: list[BaseException] = []
    try:
        token_ok(mock)
        mock.get(f"{BASE}/a", status=401, payload={"error": "expired"}, repeat=True)
        mock.get(f"{BASE}/instances/VZ1/session/qr", status=403, payload={"error": "forbidden"})
        mock.put(f"{BASE}/instances/create", exception=TimeoutError())
        for coro in (
            transport.request("GET", "/a"),
            transport.request(
                "GET",
                "/instances/VZ1/session/qr",
                auth="instance",
                instance_token=Secret(INSTANCE_TOKEN),
            ),
            transport.request("PUT", "/instances/create", json={"name": "abc"}),
        ):
            try:
                await coro
            except Exception as exc:
                errors.append(exc)
    finally:
        await transport.aclose()
    assert len(errors) == 3
    texts = [r.getMessage() for r in caplog.records]
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [repr(transport)]
    texts += [repr(Secret(INSTANCE_TOKEN)), f"{Secret(JWT)}"]
    blob = "\n".join(texts)
    assert caplog.records, "debug logging should have produced records"
    for secret in (CLIENT_SECRET, CLIENT_TOKEN, JWT, INSTANCE_TOKEN):
        assert secret not in blob


async def test_closed_transport_refuses_requests(mock: Any) -> None:
    """Using a closed client raises a clear error instead of reopening a session."""
    transport = make_transport()
    await transport.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.request("GET", "/a", auth="none")


async def test_cooldown_blocks_every_caller_until_it_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One pause makes every waiter sleep until the same deadline."""
    now = [100.0]
    slept: list[float] = []
    monkeypatch.setattr("vzaps_async._limits.time.monotonic", lambda: now[0])

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)
        now[0] += delay

    monkeypatch.setattr("vzaps_async._limits.asyncio.sleep", fake_sleep)
    gate = CoolDown()
    gate.pause(5)
    gate.pause(2)  # a shorter pause never shortens the longer one
    await gate.wait()
    await gate.wait()
    assert slept == [5]
    assert gate.remaining == 0


async def test_rate_limiter_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 10 requests/s, consecutive acquisitions are 0.1 s apart."""
    now = [0.0]
    monkeypatch.setattr("vzaps_async._limits.time.monotonic", lambda: now[0])
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(round(delay, 6))

    monkeypatch.setattr("vzaps_async._limits.asyncio.sleep", fake_sleep)
    limiter = RateLimiter(10)
    for _ in range(3):
        await limiter.acquire()
    assert slept == [0.1, 0.2]


def test_parse_retry_after_forms() -> None:
    """Retry-After is read as seconds or as an HTTP date; junk gives None."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("12") == 12
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30
    assert parse_retry_after("Thu, 01 Jan 2025 00:00:30 GMT", now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_under_cap() -> None:
    """Backoff delays lie in [0, min(max_delay, base * 2**(n-1))]."""
    import random

    policy = RetryPolicy(base_delay=1, max_delay=5)
    rng = random.Random(1)
    for n in range(1, 8):
        delays = [backoff_delay(policy, n, rng) for _ in range(200)]
        cap = min(5, 2 ** (n - 1))
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8


async def test_callback_sees_body_once(transport: Transport, mock: Any) -> None:
    """The JSON body is serialised once and replayed unchanged on a retry."""
    token_ok(mock)
    bodies: list[bytes] = []

    def record(url: URL, **kwargs: Any) -> CallbackResult:
        bodies.append(kwargs["data"])
        return CallbackResult(status=503 if len(bodies) == 1 else 200, payload={})

    mock.post(f"{BASE}/instances/list", callback=record, repeat=True)
    await transport.request("POST", "/instances/list", json={"page": 2}, idempotent=True)
    assert bodies == [b'{"page":2}', b'{"page":2}']


async def test_a_retry_that_would_pass_the_deadline_raises_the_previous_error(mock: Any) -> None:
    """Inside a RequestDeadline a 429 whose Retry-After outlasts it is raised, not waited for."""
    transport = Transport(ClientConfig(base_url=BASE), Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    try:
        token_ok(mock)
        mock.get(f"{BASE}/a", status=429, headers={"Retry-After": "5"}, repeat=True)
        with pytest.raises(RateLimitedError), RequestDeadline(0.5):
            await transport.request("GET", "/a")
        assert len(calls(mock, "GET", f"{BASE}/a")) == 1
    finally:
        await transport.aclose()


async def test_a_cool_down_longer_than_the_deadline_fails_the_caller_at_once(
    mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 whose Retry-After is over max_retry_after reaches its caller and closes the gate;
    a caller whose deadline ends before the gate opens gets RequestTimeout without waiting."""
    transport = Transport(ClientConfig(base_url=BASE), Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    try:
        token_ok(mock)
        mock.get(f"{BASE}/a", status=429, headers={"Retry-After": "500"})
        mock.get(f"{BASE}/a", payload={"ok": True}, repeat=True)
        with pytest.raises(RateLimitedError):
            await transport.request("GET", "/a")
        assert transport.cooldown.remaining > 100

        async def never_wait(self: CoolDown) -> None:
            raise AssertionError("waited for the cool-down past the caller's deadline")

        monkeypatch.setattr(CoolDown, "wait", never_wait)
        with pytest.raises(RequestNotSent, match="paused by a 429"), RequestDeadline(2):
            await transport.request("GET", "/a")
        assert len(calls(mock, "GET", f"{BASE}/a")) == 1
    finally:
        await transport.aclose()


async def test_a_request_deadline_cannot_be_entered_twice() -> None:
    """One RequestDeadline guards one block: entering it again while in use is refused."""
    deadline = RequestDeadline(1.0)
    with deadline, pytest.raises(RuntimeError, match="already in use"), deadline:
        pass


@pytest.mark.parametrize("seconds", [-1.0, float("nan")])
def test_a_request_deadline_refuses_negative_or_nan_seconds(seconds: float) -> None:
    """A negative or NaN time limit is an InputError naming the argument."""
    with pytest.raises(InputError, match="seconds"):
        RequestDeadline(seconds)


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_response_over_the_size_cap_is_a_response_error_not_read(chunked: bool) -> None:
    """A body longer than Limits.max_response_bytes raises ResponseError, with a known length
    or chunked; a body within the cap is read whole."""
    from aiohttp import web

    async def big(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        if not chunked:
            return web.json_response({"pad": "x" * size})
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'{"pad": "')
        for _ in range(size // 1000):
            await resp.write(b"x" * 1000)
        await resp.write(b'"}')
        return resp

    app = web.Application()
    app.router.add_get("/big", big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    config = ClientConfig(
        base_url=f"http://127.0.0.1:{port}", limits=Limits(max_response_bytes=10_000)
    )
    transport = Transport(config, Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    try:
        small = await transport.request("GET", "/big", params={"size": 5000}, auth="none")
        assert len(small["pad"]) == 5000
        with pytest.raises(ResponseError, match="max_response_bytes"):
            await transport.request("GET", "/big", params={"size": 50_000}, auth="none")
    finally:
        await transport.aclose()
        await runner.cleanup()


def test_a_response_error_body_never_keeps_a_token() -> None:
    """A create response kept in ResponseError.body has its token (and other credential
    fields) replaced, even when the preview cut the value short."""
    body = "{'id': 'VZ1', 'token': 'inst_tok_zq9', 'name': 'shop', 'client_secret': \"cs_zq9\"}"
    error = ResponseError("bad shape", status=200, method="PUT", path="/i", body=body)
    assert "zq9" not in error.body
    assert "'id': 'VZ1'" in error.body
    assert "'name': 'shop'" in error.body
    cut = ResponseError("x", status=200, method="PUT", path="/i", body='{"token": "inst_tok_zq')
    assert "zq" not in cut.body


def test_full_jitter_stays_under_its_cap_for_any_retry_number() -> None:
    """The shared backoff never exceeds its cap, even for retry numbers far past any exponent."""
    import random

    from vzaps_async._retry import full_jitter

    rng = random.Random(7)
    assert all(full_jitter(n, base=0.5, cap=3.0, rng=rng) <= 3.0 for n in (1, 5, 60, 10_000))
    assert all(full_jitter(1, base=0.5, cap=3.0, rng=rng) <= 0.5 for _ in range(100))


async def test_a_response_nested_too_deeply_is_a_response_error(mock: Any) -> None:
    """A success or error body nested 5,000 levels deep is a ResponseError or the status's
    APIError, never a RecursionError."""
    transport = Transport(ClientConfig(base_url=BASE), Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    deep = "[" * 5_000 + "]" * 5_000  # far past the json module's recursion limit
    try:
        token_ok(mock)
        mock.get(f"{BASE}/ok", body=deep, content_type="application/json")
        mock.get(f"{BASE}/bad", status=400, body=deep, content_type="application/json")
        with pytest.raises(ResponseError, match="nested too deeply"):
            await transport.request("GET", "/ok")
        with pytest.raises(APIError) as caught:
            await transport.request("GET", "/bad")
        assert caught.value.status == 400
    finally:
        await transport.aclose()


async def test_connections_read_at_most_64_kib_at_a_time() -> None:
    """Every pooled connection asks its socket for at most 64 KiB per read, under glibc's mmap
    threshold, and a body larger than that still arrives whole."""
    from aiohttp import web

    from vzaps_async._transport import _READ_SIZE

    large = {"data": "x" * (3 * _READ_SIZE)}

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(large if request.path == "/large" else {"ok": True})

    app = web.Application()
    app.router.add_get("/{name}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    config = ClientConfig(base_url=f"http://127.0.0.1:{port}")
    transport = Transport(config, Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    try:
        assert await transport.request("GET", "/small", auth="none") == {"ok": True}
        assert await transport.request("GET", "/large", auth="none") == large
        # aiohttp's pool of idle connections, read to reach the sockets' transports.
        pooled = [proto.transport for conns in transport.session().connector._conns.values()
                  for proto, _ in conns]  # fmt: skip
        assert pooled
        assert all(getattr(t, "max_size", None) == 64 * 1024 for t in pooled)
    finally:
        await transport.aclose()
        await runner.cleanup()


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and every exception it keeps as cause or context, suppressed or not."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


async def test_a_redirect_is_an_api_error_and_is_never_followed() -> None:
    """A 307 (JWT fetch or instance call) or a 302 loop is raised as an APIError naming the status
    and saying redirects are not followed, without the Location's query; the other host never
    sees a request, let alone a credential."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    seen: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"access_token": "x" * 20, "expires_in": 3600})

    async def redirect(request: web.Request) -> web.Response:
        if request.path == "/loop":
            raise web.HTTPFound("/loop")
        raise web.HTTPTemporaryRedirect(f"{target}{request.path}?sig=query-credential")

    other_app = web.Application()
    other_app.router.add_route("*", "/{tail:.*}", elsewhere)
    api_app = web.Application()
    api_app.router.add_route("*", "/{tail:.*}", redirect)
    errors: list[APIError] = []
    async with (
        TestServer(other_app, host="127.0.0.1") as other,
        TestServer(api_app, host="127.0.0.1") as api,
    ):
        target = str(other.make_url("")).rstrip("/")
        config = ClientConfig(
            base_url=str(api.make_url("")).rstrip("/"), retry=RetryPolicy(sleep=False)
        )
        transport = Transport(config, Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
        try:
            for coro in (
                transport.request("GET", "/instances/VZ1"),  # POST /token first
                transport.request(
                    "GET",
                    "/instances/VZ1/session/qr",
                    auth="instance",
                    instance_token=Secret(INSTANCE_TOKEN),
                ),
                transport.request("PUT", "/loop", json={}, auth="none"),
            ):
                with pytest.raises(APIError) as caught:
                    await coro
                errors.append(caught.value)
        finally:
            await transport.aclose()
    assert seen == []
    assert [(type(e), e.status, e.path) for e in errors] == [
        (APIError, 307, "/token"),
        (APIError, 307, "/instances/VZ1/session/qr"),
        (APIError, 302, "/loop"),
    ]
    assert f"redirected to {target}/token;" in str(errors[0])
    for error in errors:
        assert "does not follow redirects" in str(error)
        assert error.body is None
        texts = "\n".join(f"{e!s} {e!r}" for e in _chain(error))
        for secret in ("query-credential", CLIENT_SECRET, CLIENT_TOKEN, INSTANCE_TOKEN):
            assert secret not in texts


async def test_a_malformed_response_keeps_no_credential_in_the_exception_chain() -> None:
    """aiohttp's error for an unreadable response carries the request's headers in its repr: the
    OutcomeUnknownError of a send, and the TransportError of a GET after its retries, keep it
    neither as cause nor as context."""

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 2x0 NOPE\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = ClientConfig(base_url=f"http://127.0.0.1:{port}", retry=RetryPolicy(sleep=False))
    transport = Transport(config, Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    token = Secret(INSTANCE_TOKEN)
    try:
        with pytest.raises(OutcomeUnknownError) as sent:
            await transport.request(
                "PUT", "/instances/VZ1/webhook", json={}, auth="instance", instance_token=token
            )
        with pytest.raises(TransportError) as read:
            await transport.request(
                "GET", "/instances/VZ1/status", auth="instance", instance_token=token
            )
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    for caught in (sent, read):
        chain = _chain(caught.value)
        assert not any(isinstance(e, aiohttp.ClientResponseError) for e in chain), chain
        texts = "\n".join(f"{e!s} {e!r}" for e in chain)
        assert CLIENT_TOKEN not in texts
        assert INSTANCE_TOKEN not in texts
    assert "connection lost: ClientResponseError" in str(read.value)


async def test_an_error_body_that_is_not_json_keeps_no_credential(
    transport: Transport, mock: Any
) -> None:
    """A create answer cut short on an error status keeps the instance token out of the error's
    message and body (and of the OutcomeUnknownError above it), while the other fields stay."""
    token_ok(mock)
    cut = '{"id": "VZ1", "name": "shop", "token": "' + INSTANCE_TOKEN + '", "url": "ht'
    mock.put(f"{BASE}/instances/create", status=502, body=cut)
    mock.get(f"{BASE}/instances/VZ1", status=400, body=cut[:60])  # cut inside the token
    with pytest.raises(OutcomeUnknownError) as created:
        await transport.request("PUT", "/instances/create", json={"name": "shop"})
    with pytest.raises(BadRequestError) as read:
        await transport.request("GET", "/instances/VZ1")
    cause = created.value.__cause__
    assert isinstance(cause, ServerError)
    assert '"id": "VZ1", "name": "shop"' in cause.body
    for error in (created.value, cause, read.value):
        texts = f"{error!s} {error!r} {getattr(error, 'body', '')!r}"
        assert INSTANCE_TOKEN[:12] not in texts


async def test_a_rate_limit_turn_after_the_deadline_fails_at_once_without_taking_a_turn(
    mock: Any,
) -> None:
    """With requests_per_second=2, callers whose turn would come after their RequestDeadline get
    RequestNotSent at once and send nothing, and the next caller's turn is not pushed back."""
    config = ClientConfig(base_url=BASE, retry=RetryPolicy(sleep=False), requests_per_second=2)
    transport = Transport(config, Secret(CLIENT_TOKEN), Secret(CLIENT_SECRET))
    loop = asyncio.get_running_loop()

    async def one() -> float:
        started = loop.time()
        with RequestDeadline(0.3), contextlib.suppress(RequestNotSent):
            await transport.request("GET", "/a", auth="none")
        return loop.time() - started

    try:
        mock.get(f"{BASE}/a", payload={}, repeat=True)
        async with asyncio.timeout(5):
            took = await asyncio.gather(*(one() for _ in range(4)))
            assert len(calls(mock, "GET", f"{BASE}/a")) == 1
            assert sorted(took)[-1] < 0.25, took  # refused before any wait, not at their turns
            assert transport._rate is not None
            assert transport._rate.delay() <= 0.5  # only the request sent took a turn
    finally:
        await transport.aclose()
