"""`Client`: the entry point. Owns one `Transport` (one aiohttp session), hands out API groups."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._config import ClientConfig, RetryPolicy, Timeouts, _realtime_for
from ._handle import Instance
from ._raw import HTTPExchange, RawResponse, recording
from ._secret import Secret, as_secret
from ._transport import AuthKind, ParamValue, RequestHook, ResponseHook, Transport
from .errors import InputError

if TYPE_CHECKING:
    from .api.instances import InstancesAPI

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """An async client for the VZaps public API.

    Create one per process (or per account) and share it: it owns one aiohttp session, a cached
    JWT and the client-wide pacing (429 cool-down, optional rate limit). The session is created on
    first use inside the running event loop, so a client may be built at import time.

    Args:
        client_token: The account's client token (VZaps app → Security).
        client_secret: The account's client secret.
        config: Settings (base URL, timeouts, pool size, retries, rate limit, ...).
        base_url: Shortcut for ``config.base_url`` (e.g. a simulator's ``sim.base_url``).
        on_request: Hook called before every attempt with a `RequestInfo` (no secrets in it).
        on_response: Hook called after every attempt with a `ResponseInfo`.

    Example::

        async with Client(token, secret) as client:
            created = await client.instances.create("shop-01")
            inst = client.instance(created.id, created.token)
            qr = await inst.session.qr()
    """

    __slots__ = ("_instances", "_transport")

    def __init__(
        self,
        client_token: str | Secret,
        client_secret: str | Secret,
        *,
        config: ClientConfig | None = None,
        base_url: str | None = None,
        on_request: RequestHook | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        config = config or ClientConfig()
        if base_url is not None:
            # A realtime URL derived from the old base URL follows the new one (else a stream
            # against a simulator or staging host would go to production); an explicit one stays.
            follows = config.realtime_url == _realtime_for(config.base_url)
            config = attrs.evolve(config, base_url=base_url)
            if follows:
                config = attrs.evolve(config, realtime_url=_realtime_for(config.base_url))
        self._transport = Transport(
            config,
            as_secret(client_token, field="client_token"),
            as_secret(client_secret, field="client_secret"),
            on_request=on_request,
            on_response=on_response,
        )
        self._instances: InstancesAPI | None = None

    @classmethod
    def from_env(
        cls, *, config: ClientConfig | None = None, env: Mapping[str, str] | None = None
    ) -> Client:
        """Build a client from ``VZAPS_CLIENT_TOKEN``, ``VZAPS_CLIENT_SECRET`` and, optionally,
        ``VZAPS_BASE_URL`` and ``VZAPS_REALTIME_URL`` (what a standalone simulator prints).

        Args:
            config: Settings; ``VZAPS_BASE_URL`` overrides its base URL when set (and the
                realtime URL follows it unless ``VZAPS_REALTIME_URL`` or the config sets one).
            env: The environment to read (default ``os.environ``).
        """
        env = os.environ if env is None else env
        missing = [k for k in ("VZAPS_CLIENT_TOKEN", "VZAPS_CLIENT_SECRET") if not env.get(k)]
        if missing:
            raise InputError(
                ", ".join(missing),
                "not set; export the credentials from the VZaps app (Security), or use the "
                "simulator (vzaps_async.testing.Simulator)",
            )
        realtime_url = env.get("VZAPS_REALTIME_URL")
        if realtime_url:
            config = attrs.evolve(config or ClientConfig(), realtime_url=realtime_url)
        return cls(
            env["VZAPS_CLIENT_TOKEN"],
            env["VZAPS_CLIENT_SECRET"],
            config=config,
            base_url=env.get("VZAPS_BASE_URL") or None,
        )

    @property
    def instances(self) -> InstancesAPI:
        """Account-level routes: create, list, get, update, delete instances; billing."""
        # Built on first use: a client that only sends messages never loads these routes.
        if self._instances is None:
            from .api.instances import InstancesAPI

            self._instances = InstancesAPI(self._transport)
        return self._instances

    @property
    def config(self) -> ClientConfig:
        """The client's settings."""
        return self._transport.config

    @property
    def transport(self) -> Transport:
        """The session layer (for advanced use: realtime, custom routes)."""
        return self._transport

    def instance(self, instance_id: str, token: str | Secret | None = None) -> Instance:
        """Return a handle bound to one instance, so calls need neither its id nor its token.

        Args:
            instance_id: The instance id (``VZ…``).
            token: The instance token from the create response. Without it, instance routes
                authenticate with the account JWT.
        """
        return Instance(self._transport, instance_id, token)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        auth: AuthKind = "jwt",
        instance_token: str | Secret | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call a route that has no typed method yet; auth, retries and errors work as for the rest.

        Args:
            method: HTTP method.
            path: Path below the base URL, e.g. ``"/instances/VZ…/chat/send/text"``.
            json: JSON body.
            params: Query parameters.
            auth: ``"jwt"``, ``"instance"`` (instance token if given, else JWT) or ``"none"``.
            instance_token: Instance token for ``auth="instance"``.
            idempotent: Whether the call may be retried after an unknown outcome (default: by
                method, GET/HEAD/OPTIONS/DELETE only).

        Returns:
            The decoded payload (envelope ``data`` unwrapped).
        """
        if not isinstance(path, str) or not path.startswith("/"):
            raise InputError("path", f"must start with '/', got {path!r}")
        token = (
            None if instance_token is None else as_secret(instance_token, field="instance_token")
        )
        return await self._transport.request(
            method.upper(),
            path,
            json=json,
            params=params,
            auth=auth,
            instance_token=token,
            idempotent=idempotent,
        )

    def with_options(
        self,
        *,
        timeout: float | Timeouts | None = None,
        retry: RetryPolicy | int | None = None,
    ) -> Client:
        """A view of this client whose calls use another timeout or retry policy.

        The view shares the session and its connection pool, the JWT, the 429 cool-down, the
        rate limit and the hooks; creating one costs two small objects. Closing it does nothing.
        Example: ``await client.with_options(timeout=5, retry=1).instances.get(iid)``.

        Args:
            timeout: Seconds for one attempt (`Timeouts.total`; the connect limit is capped to
                it), or a whole `Timeouts`.
            retry: Attempts in all (1: no retry), or a whole `RetryPolicy`.
        """
        config = self._transport.config
        if timeout is not None:
            if isinstance(timeout, Timeouts):
                timeouts = timeout
            elif isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
                timeouts = Timeouts(connect=min(config.timeouts.connect, timeout), total=timeout)
            else:
                raise InputError("timeout", f"must be seconds > 0 or a Timeouts, got {timeout!r}")
            config = attrs.evolve(config, timeouts=timeouts)
        if retry is not None:
            if isinstance(retry, RetryPolicy):
                policy = retry
            elif isinstance(retry, int) and not isinstance(retry, bool) and retry >= 1:
                policy = attrs.evolve(config.retry, max_attempts=retry)
            else:
                raise InputError(
                    "retry", f"must be a number of attempts >= 1 or a RetryPolicy, got {retry!r}"
                )
            config = attrs.evolve(config, retry=policy)
        view = object.__new__(Client)
        view._transport = self._transport.view(config)
        view._instances = None
        return view

    async def raw(self, call: Awaitable[T]) -> RawResponse[T]:
        """Await one call and return its result with the HTTP status, headers and request id.

        Pass the call un-awaited: ``resp = await client.raw(client.instances.create("shop"))``,
        then ``resp.parsed``, ``resp.status``, ``resp.request_id``, ``resp.headers``. Works for
        any method of the client, its views and its instance handles. An error raised by the
        call is raised as usual (it carries ``status`` and ``request_id`` itself).

        Args:
            call: The coroutine of one API call.
        """
        exchanges: list[HTTPExchange] = []
        token = recording.set(exchanges)
        try:
            parsed = await call
        finally:
            recording.reset(token)
        return RawResponse(parsed, tuple(exchanges))

    async def aclose(self) -> None:
        """Close the HTTP session. Safe to call more than once."""
        await self._transport.aclose()

    async def __aenter__(self) -> Client:
        self._transport.session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"Client(base_url={self._transport.config.base_url!r})"
