"""Session layer: one aiohttp ClientSession per client, auth headers, envelope decoding, error
mapping, retries and pacing.

The retry matrix (what happens after a failed attempt):

=========================================  ==================  ==================================
failure                                    idempotent call     non-idempotent call (create,
                                                               subscribe, every send)
=========================================  ==================  ==================================
could not connect (the server never saw    retry               retry
the request)
429 Too Many Requests                      pause the whole     pause the whole client for
                                           client for          Retry-After, then retry
                                           Retry-After, retry
401 on a JWT request                       refresh the JWT     refresh the JWT once, replay
                                           once, replay        (the server refused it unread)
timeout, dropped connection, 5xx           retry               raise OutcomeUnknownError: the
                                                               server may have applied it
3xx (never followed: a redirect would      raise APIError      raise APIError
carry the credentials to another host)
other 4xx                                  raise               raise
=========================================  ==================  ==================================

Retries wait with exponential backoff and full jitter, or exactly Retry-After when the server
sent one, and stop after ``RetryPolicy.max_attempts`` attempts.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from typing import Any, Literal, NoReturn

import aiohttp
import attrs
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.tracing import Trace
from yarl import URL

from . import _json
from ._auth import TokenManager
from ._config import ClientConfig
from ._limits import CoolDown, RateLimiter, Slots
from ._raw import HTTPExchange, recording
from ._retry import IDEMPOTENT_METHODS, backoff_delay, parse_retry_after
from ._secret import Secret
from .errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    InputError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestNotSent,
    RequestTimeout,
    ResponseError,
    ServerError,
    TransportError,
    VZapsError,
    _scrub,
    error_for_status,
)

__all__ = ["AuthKind", "RequestDeadline", "RequestInfo", "ResponseInfo", "Transport"]

logger = logging.getLogger("vzaps_async")

AuthKind = Literal["none", "jwt", "instance"]
ParamValue = str | int | float | bool | None

_BODY_PREVIEW = 500

#: Bytes asked of the socket per read. asyncio's default, 256 KiB, is above glibc's default mmap
#: threshold (128 KiB): reading a small JSON answer into it can map a fresh buffer, shrink it with
#: mremap and unmap it later, three system calls per response. A buffer under the threshold is
#: served from the heap.
_READ_SIZE = 64 * 1024


class _Connector(aiohttp.TCPConnector):
    """aiohttp's TCP connector; each new connection reads at most `_READ_SIZE` bytes at a time.

    aiohttp has no public hook that sees a new connection's transport, hence the override of its
    private ``_create_connection``: should aiohttp rename it, reads keep asyncio's size and
    tests/test_transport.py says so.
    """

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> ResponseHandler:
        protocol = await super()._create_connection(req, traces, timeout)
        transport = protocol.transport
        # Only asyncio's own socket transport reads into a fresh buffer of ``max_size``; TLS and
        # uvloop transports keep their own buffers and have no such attribute.
        if transport is not None and getattr(transport, "max_size", 0) > _READ_SIZE:
            transport.max_size = _READ_SIZE  # type: ignore[attr-defined]
        return protocol


@attrs.frozen
class RequestInfo:
    """What a request hook sees before an attempt is sent (never headers or bodies).

    Args:
        method: HTTP method.
        path: Request path.
        attempt: 1 for the first attempt.
    """

    method: str
    path: str
    attempt: int


@attrs.frozen
class ResponseInfo:
    """What a response hook sees after an attempt (never headers or bodies).

    Args:
        method: HTTP method.
        path: Request path.
        attempt: 1 for the first attempt.
        status: HTTP status, or None when no response arrived.
        elapsed: Seconds the attempt took.
        error: The exception type name when the attempt failed without a response.
    """

    method: str
    path: str
    attempt: int
    status: int | None
    elapsed: float
    error: str | None = None


RequestHook = Callable[[RequestInfo], None]
ResponseHook = Callable[[ResponseInfo], None]


#: The `time.monotonic` reading by which every attempt sent in this context must end
#: (`RequestDeadline`). Not the loop's clock: `asyncio.get_running_loop` makes a getpid system
#: call on each use in Python 3.11, and asyncio's loop time is `time.monotonic` anyway.
_deadline: ContextVar[float | None] = ContextVar("vzaps_async_request_deadline", default=None)


class RequestDeadline:
    """Limit the time of every request sent inside a ``with`` block, without a timer of its own.

    Each attempt gets aiohttp's per-request timeout (the timer aiohttp starts for every request
    anyway) cut to the time left, and no attempt or retry starts once it has passed. Two
    approximations keep it free: a deadline within a second (or 5%) of `Timeouts.total` keeps
    the client's own per-attempt timeout, and aiohttp rounds timeouts above five seconds up to
    whole seconds, so an attempt may end up to about two seconds late. An attempt that would
    start after the deadline raises `RequestNotSent` (a `RequestTimeout`) without being sent; a
    retry it refuses raises the error of the attempt before. Waiting for a free pooled
    connection is not counted (see `Limits`); waiting out a 429 cool-down or a token refresh
    counts but is not cut short: once it is over, no attempt starts if the time is up. A 429
    cool-down or a ``requests_per_second`` turn known to end after the deadline raises
    `RequestNotSent` at once, without waiting (nor taking a turn).

    Nested blocks keep the earlier deadline. Tasks started inside a block inherit its deadline
    for their whole life (it lives in a context variable). Each ``with`` needs its own instance.
    The onboarding driver bounds each step with it: a second timer per request was measurable in
    fleets of thousands.

    Args:
        seconds: Time allowed from entering the block (``math.inf`` for no limit).
    """

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float) -> None:
        if not seconds >= 0:  # also refuses NaN, which would switch every deadline off
            raise InputError("seconds", f"must be a number of seconds >= 0, got {seconds!r}")
        self._seconds = seconds
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        if self._token is not None:
            raise RuntimeError("this RequestDeadline is already in use; create one per block")
        when = time.monotonic() + self._seconds
        outer = _deadline.get()
        self._token = _deadline.set(when if outer is None else min(when, outer))

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _deadline.reset(self._token)
            self._token = None


@attrs.define(slots=True)
class _Call:
    """One request as every attempt of it sends it: built once, read by each attempt."""

    method: str
    path: str
    url: str
    body: bytes | None = attrs.field(repr=False)  # POST /token carries the client secret
    query: dict[str, str] | None
    auth: AuthKind
    instance_token: Secret | None
    #: Every header of an attempt when none depends on the JWT (built once per call), else None.
    headers: dict[str, str] | None = attrs.field(repr=False)  # tokens in plain text
    idempotent: bool
    deadline: float | None


class _Retry(Exception):
    """Internal: this attempt failed in a way the retry matrix says to retry."""

    def __init__(self, error: VZapsError, *, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


class Transport:
    """Sends requests for a `Client`; the API modules call `request` and nothing else.

    Args:
        config: Client settings.
        client_token: The account's client token (also sent as X-Client-Token).
        client_secret: The account's client secret (only sent to POST /token).
        on_request: Called before every attempt.
        on_response: Called after every attempt.
    """

    __slots__ = (
        "_attempt_timeout",
        "_base_url",
        "_client_token",
        "_client_token_value",
        "_closed",
        "_config",
        "_cooldown",
        "_jwt_headers",
        "_limiter",
        "_on_request",
        "_on_response",
        "_parent",
        "_rate",
        "_rng",
        "_session",
        "_tokens",
        "learned",
    )

    def __init__(
        self,
        config: ClientConfig,
        client_token: Secret,
        client_secret: Secret,
        *,
        on_request: RequestHook | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        self._config = config
        self._base_url = config.base_url
        self._client_token = client_token
        self._client_token_value = client_token.reveal()
        self._session: aiohttp.ClientSession | None = None
        self._parent: Transport | None = None
        self._closed = False
        self._on_request = on_request
        self._on_response = on_response
        self._cooldown = CoolDown(enabled=config.retry.sleep)
        self._rate = RateLimiter(config.requests_per_second) if config.requests_per_second else None
        # The pool already caps connections; these slots keep requests that wait for a free
        # connection out of the per-attempt timeout, so a burst of callers does not time out in
        # the queue. (`Slots`: this sits on the hot path, and a free slot costs a comparison.)
        self._limiter = Slots(config.limits.max_connections)
        self._rng = random.Random()
        self._attempt_timeout = aiohttp.ClientTimeout(
            total=config.timeouts.total, connect=config.timeouts.connect
        )
        self._jwt_headers: tuple[str, dict[str, str]] | None = None
        #: Wire forms verified against this server at runtime (e.g. ``{"webhook_set":
        #: "webhook_url"}``), shared by every API object of the client.
        self.learned: dict[str, str] = {}

        async def fetch_token() -> tuple[str, float]:
            return await self._fetch_token(client_secret)

        self._tokens = TokenManager(fetch_token, skew=config.token_refresh_skew)

    @property
    def config(self) -> ClientConfig:
        """The client settings."""
        return self._config

    @property
    def cooldown(self) -> CoolDown:
        """The client-wide 429 cool-down gate."""
        return self._cooldown

    def deadline(self, seconds: float) -> RequestDeadline:
        """Bound every request this client sends inside a ``with`` block (a `RequestDeadline`).

        Args:
            seconds: Time allowed from entering the block.
        """
        return RequestDeadline(seconds)

    @property
    def closed(self) -> bool:
        """True once `aclose` has run (on the client, for a view)."""
        return self._closed if self._parent is None else self._parent.closed

    def view(self, config: ClientConfig) -> Transport:
        """A transport that sends with other timeouts and retry policy and shares everything else:
        the session and its pool, the JWT, the 429 cool-down, the rate limit, the hooks and the
        wire forms learned. Closing a view does nothing; close the client.

        Args:
            config: This transport's config with other ``timeouts`` / ``retry``.
        """
        view = object.__new__(Transport)
        for name in Transport.__slots__:
            setattr(view, name, getattr(self, name))
        view._config = config
        view._attempt_timeout = aiohttp.ClientTimeout(
            total=config.timeouts.total, connect=config.timeouts.connect
        )
        view._parent = self._parent or self
        return view

    def session(self) -> aiohttp.ClientSession:
        """Return the aiohttp session, creating it (inside the running loop) on first use."""
        if self._parent is not None:
            return self._parent.session()
        session = self._session
        if session is not None:
            return session
        if self._closed:
            raise RuntimeError("this vzaps_async Client is closed; create a new one")
        cfg = self._config
        connector = _Connector(
            limit=cfg.limits.max_connections,
            limit_per_host=0,
            keepalive_timeout=cfg.limits.keepalive_timeout,
        )
        self._session = session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._attempt_timeout,
            headers={"User-Agent": cfg.user_agent, "Accept": "application/json"},
            # Responses are decoded here, once; aiohttp need not sniff encodings.
            auto_decompress=True,
            raise_for_status=False,
        )
        # aiohttp silently re-sends PUT and DELETE once when a reused keep-alive connection drops
        # (RFC 9112 §9.3.1). `PUT /instances/create` is not idempotent: that replay would create
        # and bill a second instance. Our own retry matrix decides every replay instead. There is
        # no public option for this, hence the guarded private attribute.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        return session

    async def aclose(self) -> None:
        """Close the aiohttp session and its connections. Safe to call twice; no-op on a view."""
        if self._parent is not None:
            return
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # -- auth ---------------------------------------------------------------------------------

    async def auth_headers(
        self, auth: AuthKind, instance_token: Secret | None = None
    ) -> dict[str, str]:
        """Return the headers a request with this auth carries (for the realtime WebSocket).

        Args:
            auth: ``"jwt"``, ``"instance"`` or ``"none"``.
            instance_token: The instance token, for ``auth="instance"``.
        """
        headers, _ = await self._headers(auth, instance_token)
        return dict(headers)

    def _jwt_free_headers(
        self, auth: AuthKind, instance_token: Secret | None
    ) -> dict[str, str] | None:
        """The auth headers of a call that carries no JWT, or None when it carries one."""
        if auth == "none":
            return {}
        if (
            auth == "instance"
            and instance_token is not None
            and self._config.instance_auth == "token"
        ):
            return {
                "X-Instance-Token": instance_token.reveal(),
                "X-Client-Token": self._client_token_value,
            }
        return None

    async def _headers(
        self, auth: AuthKind, instance_token: Secret | None
    ) -> tuple[dict[str, str], str | None]:
        """Headers for one attempt, and the JWT they carry (None when they carry none)."""
        fixed = self._jwt_free_headers(auth, instance_token)
        if fixed is not None:
            return fixed, None
        jwt = await self._tokens.get()
        cached = self._jwt_headers
        if cached is None or cached[0] != jwt:
            cached = self._jwt_headers = (
                jwt,
                {"Authorization": f"Bearer {jwt}", "X-Client-Token": self._client_token_value},
            )
        if auth == "instance" and instance_token is not None:
            return {**cached[1], "X-Instance-Token": instance_token.reveal()}, jwt
        return cached[1], jwt

    async def _fetch_token(self, client_secret: Secret) -> tuple[str, float]:
        body = {"client_token": self._client_token_value, "client_secret": client_secret.reveal()}
        raw = await self.request("POST", "/token", json=body, auth="none", idempotent=True)
        return _read_token(raw)

    # -- requests -----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        auth: AuthKind = "jwt",
        instance_token: Secret | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API request and return its decoded payload.

        Args:
            method: HTTP method.
            path: Path below the base URL, starting with ``/``; path parameters already quoted.
            json: JSON body (None sends no body).
            params: Query parameters (booleans become ``true``/``false``; None values dropped).
            auth: ``"jwt"`` for account routes (Bearer JWT + X-Client-Token), ``"instance"`` for
                instance routes (X-Instance-Token + X-Client-Token when ``instance_token`` is given
                and the config says ``instance_auth="token"``, else the JWT), ``"none"`` for none.
            instance_token: The instance's token, for ``auth="instance"``.
            idempotent: Whether the call may be replayed after an unknown outcome. Default: True
                for GET/HEAD/OPTIONS/DELETE, False otherwise (pass True for read-only POSTs).

        Returns:
            The payload: ``data`` when the body is a ``{success, data}`` envelope, else the whole
            decoded body; None for an empty body (204).
        """
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        body = None if json is None else _json.dumps(json)
        headers = self._jwt_free_headers(auth, instance_token)
        if headers is not None and body is not None:
            headers["Content-Type"] = "application/json"
        call = _Call(
            method,
            path,
            self._base_url + path,
            body,
            _encode_params(params) if params else None,
            auth,
            instance_token,
            headers,
            idempotent,
            _deadline.get(),
        )
        deadline = call.deadline
        policy = self._config.retry
        attempt = 0
        reauthed = False
        while True:
            attempt += 1
            try:
                return await self._attempt(call, attempt)
            except _Retry as retry:
                error = retry.error
                if isinstance(error, AuthenticationError):
                    # The JWT was refused unread: refresh it and replay once, whatever the method.
                    if reauthed:
                        raise error from None
                    reauthed = True
                    attempt -= 1
                    continue
                if attempt >= policy.max_attempts:
                    raise error from None
                if retry.retry_after is not None:
                    if retry.retry_after > policy.max_retry_after:
                        raise error from None
                    delay = retry.retry_after
                else:
                    delay = backoff_delay(policy, attempt, self._rng)
                wait = delay if policy.sleep else 0.0
                if deadline is not None and time.monotonic() + wait >= deadline:
                    raise error from None
                logger.info(
                    "retrying %s %s after attempt %d failed (%s); waiting %.2fs",
                    method,
                    path,
                    attempt,
                    type(error).__name__,
                    delay,
                )
                if policy.sleep and delay > 0:
                    await asyncio.sleep(delay)

    async def _attempt(self, call: _Call, attempt: int) -> Any:
        method, path, deadline = call.method, call.path, call.deadline
        if self._cooldown.until:
            if (
                deadline is not None
                and self._config.retry.sleep
                and time.monotonic() + self._cooldown.remaining >= deadline
            ):
                # Waiting out the 429 cool-down would outlast this caller's budget: fail now.
                raise RequestNotSent(
                    f"the client is paused by a 429 for {self._cooldown.remaining:.1f}s more, "
                    "longer than the time left for this request",
                    method=method,
                    path=path,
                )
            await self._cooldown.wait()
        if self._rate is not None:
            wait = self._rate.delay() if deadline is not None else 0.0
            if deadline is not None and time.monotonic() + wait >= deadline:
                # As for the cool-down: a turn after the deadline would be refused once it came.
                raise RequestNotSent(
                    f"requests_per_second gives this request its turn in {wait:.1f}s, after "
                    "the time left for it",
                    method=method,
                    path=path,
                )
            await self._rate.acquire()
        body = call.body
        jwt: str | None = None
        headers = call.headers
        if headers is None:
            headers, jwt = await self._headers(call.auth, call.instance_token)
            if body is not None:
                headers = {**headers, "Content-Type": "application/json"}
        # Measured after the cool-down, rate and token waits, so those count against it too.
        timeout = self._attempt_timeout
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RequestNotSent(
                    "the time allowed for this request ran out before it was sent",
                    method=method,
                    path=path,
                )
            # Close to the per-attempt limit (within a second, or 5% of a shorter one) the
            # default is kept, sparing an object per request; aiohttp rounds timeouts above five
            # seconds up to whole seconds anyway.
            limits = self._config.timeouts
            if left < limits.total - min(1.0, limits.total * 0.05):
                timeout = aiohttp.ClientTimeout(total=left, connect=min(left, limits.connect))
        if self._on_request is not None:
            self._on_request(RequestInfo(method, path, attempt))
        session = self.session()
        started = time.monotonic()
        status: int | None = None
        unchained: _Retry | OutcomeUnknownError | None = None
        try:
            async with (
                self._limiter,
                # A redirect would replay the credentials (X-Client-Token, the JWT, the instance
                # token, a 307-resent client secret) to whatever host the Location names.
                session.request(
                    method,
                    call.url,
                    data=body,
                    params=call.query,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                ) as resp,
            ):
                status = resp.status
                resp_headers = resp.headers
                length = resp.content_length
                cap = self._config.limits.max_response_bytes
                if length is not None and length <= cap and "Content-Encoding" not in resp_headers:
                    raw: bytes | None = await resp.read()  # a plain body of an allowed length
                else:
                    raw = await _read_capped(resp, cap)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The connection was never made, so the server never saw the request.
            self._after(method, path, attempt, None, started, exc)
            raise _Retry(
                ConnectError(f"could not connect: {exc}", method=method, path=path)
            ) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            self._after(method, path, attempt, status, started, exc)
            failure = _lost(call, exc)
            if not isinstance(exc, aiohttp.ClientResponseError):
                raise failure from exc
            # The repr of a ClientResponseError (a malformed response, say) holds the request's
            # headers, credentials included: raised outside this block, the failure keeps it
            # neither as its cause nor as its context.
            unchained = failure
        if unchained is not None:
            raise unchained
        assert status is not None  # only a response read whole gets here
        self._after(method, path, attempt, status, started, None)
        exchanges = recording.get()
        if exchanges is not None:
            request_id = resp_headers.get("X-Request-Id")
            exchanges.append(HTTPExchange(method, path, status, resp_headers, request_id))
        if raw is None:
            raise ResponseError(
                f"the response body is over Limits.max_response_bytes "
                f"({self._config.limits.max_response_bytes} bytes); not read",
                status=status,
                method=method,
                path=path,
            )
        if status < 300:
            return _decode_success(raw, status, method, path)
        if status < 400:
            raise _redirected(status, resp_headers, method, path)
        error = _error_from_response(status, raw, resp_headers, method, path)
        if status == 429:
            retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
            pause = (
                retry_after
                if retry_after is not None
                else backoff_delay(self._config.retry, attempt, self._rng)
            )
            self._cooldown.pause(min(pause, self._config.retry.max_retry_after))
            raise _Retry(error, retry_after=retry_after)
        if status == 401 and jwt is not None:
            self._tokens.invalidate(jwt)
            raise _Retry(error)
        if isinstance(error, ServerError):
            if call.idempotent:
                raise _Retry(error)
            raise OutcomeUnknownError(
                f"the server failed (HTTP {status}) after receiving the request; it may have been "
                "applied: look the result up before retrying",
                method=method,
                path=path,
            ) from error
        raise error

    def _after(
        self,
        method: str,
        path: str,
        attempt: int,
        status: int | None,
        started: float,
        error: BaseException | None,
    ) -> None:
        if self._on_response is not None or logger.isEnabledFor(logging.DEBUG):
            elapsed = time.monotonic() - started
            logger.debug(
                "%s %s -> %s (attempt %d, %.1f ms)",
                method,
                path,
                status if error is None else type(error).__name__,
                attempt,
                elapsed * 1000,
            )
            if self._on_response is not None:
                self._on_response(
                    ResponseInfo(
                        method,
                        path,
                        attempt,
                        status,
                        elapsed,
                        None if error is None else type(error).__name__,
                    )
                )


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes | None:
    """The whole body, or None (the rest unread) once it is known to be longer than ``cap``.

    `Transport._attempt` reads a plain body of a known, allowed length itself; this reads the
    rest: a body declared too long, chunked or compressed (whose decoded size is only known by
    reading it).
    """
    length = resp.content_length
    if length is not None and length > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _lost(call: _Call, exc: BaseException) -> _Retry | OutcomeUnknownError:
    """What an attempt whose response never arrived raises: a `_Retry` of the loss for an
    idempotent call, else `OutcomeUnknownError`."""
    method, path = call.method, call.path
    lost: TransportError
    if isinstance(exc, TimeoutError):
        lost = RequestTimeout("no response in time", method=method, path=path)
    else:
        lost = TransportError(f"connection lost: {type(exc).__name__}", method=method, path=path)
    if call.idempotent:
        return _Retry(lost)
    return OutcomeUnknownError(
        f"the request was sent but its response was lost ({type(lost).__name__}); it may "
        "have been applied: look the result up before retrying",
        method=method,
        path=path,
    )


def _redirected(status: int, headers: Mapping[str, str], method: str, path: str) -> APIError:
    """The error for a 3xx answer, which is never followed.

    The Location is named by its origin and path only: its query, fragment and user info may
    carry a credential. The body, a redirect page that may repeat the Location, is not kept.
    """
    location = headers.get("Location")
    where = "no Location"
    if location:
        try:
            url = URL(location)
            where = f"{url.origin()}{url.path}" if url.absolute else url.path
        except ValueError:
            where = "an unreadable Location"
    return APIError(
        status,
        f"redirected to {where}; the SDK does not follow redirects (check base_url)",
        method=method,
        path=path,
        request_id=headers.get("X-Request-Id"),
    )


def _encode_params(params: Mapping[str, ParamValue]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _decode_success(raw: bytes, status: int, method: str, path: str) -> Any:
    if not raw:
        return None
    try:
        body = _json.loads(raw)
    except ValueError:
        _bad_body("response is not JSON", raw, status, method, path)
    except RecursionError:
        _bad_body("response JSON is nested too deeply", raw, status, method, path)
    if type(body) is dict and "success" in body and "data" in body:
        if body["success"] is False:
            # An error wrapped in a 2xx: trust the envelope's own code.
            code = body.get("code")
            err_status = code if isinstance(code, int) and code >= 400 else 400
            raise _build_error(err_status, body, None, method, path)
        return body["data"]
    return body


def _bad_body(problem: str, raw: bytes, status: int, method: str, path: str) -> NoReturn:
    text = raw[:_BODY_PREVIEW].decode("utf-8", "replace")
    raise ResponseError(problem, status=status, method=method, path=path, body=text)


def _error_from_response(
    status: int, raw: bytes, headers: Mapping[str, str], method: str, path: str
) -> APIError:
    body: Any
    try:
        body = _json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        # An HTML 502 page from a proxy, say: keep a preview of the text. Scrubbed, as in
        # `ResponseError`: a create answer cut short still carries the instance token.
        body = _scrub(raw[:_BODY_PREVIEW].decode("utf-8", "replace"))
    return _build_error(status, body, headers, method, path)


def _build_error(
    status: int, body: Any, headers: Mapping[str, str] | None, method: str, path: str
) -> APIError:
    message, code = _read_error_fields(body)
    request_id = headers.get("X-Request-Id") if headers is not None else None
    cls = error_for_status(status)
    common: dict[str, Any] = {
        "code": code,
        "method": method,
        "path": path,
        "body": body,
        "request_id": request_id,
    }
    if cls is RateLimitedError:
        retry_after = parse_retry_after(headers.get("Retry-After")) if headers is not None else None
        return RateLimitedError(
            status, message or "rate limited", retry_after=retry_after, **common
        )
    return cls(status, message or _REASONS.get(status, "error"), **common)


def _read_error_fields(body: Any) -> tuple[str, str | None]:
    """Message and string code from any of the error shapes the contract lists (§1.6)."""
    if not isinstance(body, dict):
        return (body.strip()[:200] if isinstance(body, str) else ""), None
    message = ""
    for key in ("message", "error", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value:
            message = value
            break
    if not message:
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = str(errors[0].get("message", ""))
    if not message:
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            message = data["error"]
    code = body.get("error_code")
    if not isinstance(code, str):
        raw_code = body.get("code")
        code = raw_code if isinstance(raw_code, str) else None
    return message, code


def _read_token(raw: Any) -> tuple[str, float]:
    """Read ``access_token``/``expires_in`` at the top level, else under ``data`` (or camelCase)."""
    for candidate in (raw, raw.get("data") if isinstance(raw, dict) else None):
        if not isinstance(candidate, dict):
            continue
        token = candidate.get("access_token", candidate.get("accessToken"))
        if isinstance(token, str) and token:
            expires: Any = candidate.get("expires_in", candidate.get("expiresIn", 3600))
            try:
                return token, float(expires)
            except (TypeError, ValueError):
                return token, 3600.0
    keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
    raise ResponseError(
        f"POST /token answered without access_token (got keys {keys})",
        status=200,
        method="POST",
        path="/token",
    )


_REASONS = {
    400: "bad request",
    401: "unauthorized",
    402: "payment required",
    403: "forbidden",
    404: "not found",
    409: "conflict",
    422: "unprocessable entity",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}
