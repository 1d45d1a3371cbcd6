"""Client settings: frozen attrs values, validated when built."""

from __future__ import annotations

from typing import Any, Final, Literal

import attrs

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_REALTIME_URL",
    "ClientConfig",
    "Limits",
    "RetryPolicy",
    "Timeouts",
    "WireForms",
]

DEFAULT_BASE_URL: Final = "https://api.vzaps.com"
DEFAULT_REALTIME_URL: Final = "wss://realtime.vzaps.com"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _strip_slash(url: str) -> str:
    return str(url).rstrip("/")


def _realtime_for(base_url: str) -> str:
    # The real service serves realtime from its own host. Any other base URL (a simulator, a
    # staging server) serves both from one host, so derive ws(s):// from it rather than sending
    # a local test's WebSocket to production.
    if base_url.rstrip("/") == DEFAULT_BASE_URL:
        return DEFAULT_REALTIME_URL
    return "ws" + base_url[len("http") :] if base_url.startswith("http") else base_url


@attrs.frozen
class Timeouts:
    """Per-request time limits, in seconds.

    Args:
        connect: Time to open a connection (TCP and TLS).
        total: Time for one attempt: connect, send, and read the whole response.
    """

    connect: float = attrs.field(default=10.0, validator=_positive)
    total: float = attrs.field(default=30.0, validator=_positive)


@attrs.frozen
class Limits:
    """Connection pool size and response size; the client never has more requests in flight
    than connections.

    Args:
        max_connections: Open connections at most (and so requests in flight at most).
        keepalive_timeout: Seconds an idle connection is kept for reuse.
        max_response_bytes: Largest response body read (after decompression); a longer one
            raises `ResponseError` instead of filling memory.
    """

    max_connections: int = attrs.field(default=100, validator=_positive)
    keepalive_timeout: float = attrs.field(default=30.0, validator=_positive)
    max_response_bytes: int = attrs.field(default=32 * 1024 * 1024, validator=_positive)


@attrs.frozen
class RetryPolicy:
    """How failed requests are retried: exponential backoff with full jitter.

    The delay before retry *n* (1-based) is uniform in
    ``[0, min(max_delay, base_delay * 2**(n-1))]``,
    or exactly ``Retry-After`` when the server sent one (capped at ``max_retry_after``).

    Args:
        max_attempts: Attempts in all, the first included (1 disables retries).
        base_delay: Seconds; scale of the first backoff.
        max_delay: Seconds; cap of one backoff.
        max_retry_after: Seconds; a larger ``Retry-After`` is not waited for: the 429 is raised.
        sleep: False turns every backoff sleep off (tests); the retry decisions stay the same.
    """

    max_attempts: int = attrs.field(default=4, validator=_positive)
    base_delay: float = attrs.field(default=0.25, validator=_non_negative)
    max_delay: float = attrs.field(default=20.0, validator=_non_negative)
    max_retry_after: float = attrs.field(default=120.0, validator=_non_negative)
    sleep: bool = True


def _one_of(*values: str) -> Any:
    return attrs.validators.in_(values)


@attrs.frozen
class WireForms:
    """Which form the client sends where the API docs and the official SDKs disagree.

    docs/contract-choices.md gives the evidence for each default.

    Args:
        webhook_set: ``"webhookURL"`` sends ``{"webhookURL": url, "events": "A,B"}`` (the API
            reference); ``"webhook_url"`` sends ``{"webhook_url": url, "events": [...]}`` (the
            Go, TypeScript, .NET and Java SDKs). `WebhookAPI.set` reads the webhook back and,
            when the first form left it unset, sends the other once and keeps using the one that
            worked for the rest of the client's life.
        list_sort_desc: The key of the descending flag of instance list/search: ``"sortDesc"``
            (the docs' curl) or ``"sort_desc"`` (the Python, Go, TypeScript and .NET SDKs).
        user_info_phone: ``"array"`` sends ``user/info``'s ``phone`` as an array like
            ``user/check``; ``"string"`` as one number (the Go, TypeScript and .NET types).
        poll_vote: The field of the chosen poll answers: ``"selected_options"`` (the contract)
            or ``"vote"`` (the SDK types).
        instance_get: ``"POST"`` reads one instance with ``POST /instances/get {id}`` (every
            current SDK); ``"GET"`` with the older ``GET /instances/{id}``.
        realtime_query_credentials: Also put the credentials in the realtime WebSocket URL's
            query string (the Python, Go, TypeScript and PHP SDKs do, for browsers); off by
            default, since URLs end up in proxy and access logs. Headers are always sent.
    """

    webhook_set: Literal["webhookURL", "webhook_url"] = attrs.field(
        default="webhookURL", validator=_one_of("webhookURL", "webhook_url")
    )
    list_sort_desc: Literal["sortDesc", "sort_desc"] = attrs.field(
        default="sortDesc", validator=_one_of("sortDesc", "sort_desc")
    )
    user_info_phone: Literal["array", "string"] = attrs.field(
        default="array", validator=_one_of("array", "string")
    )
    poll_vote: Literal["selected_options", "vote"] = attrs.field(
        default="selected_options", validator=_one_of("selected_options", "vote")
    )
    instance_get: Literal["POST", "GET"] = attrs.field(
        default="POST", validator=_one_of("POST", "GET")
    )
    realtime_query_credentials: bool = False


@attrs.frozen
class ClientConfig:
    """Everything about a `Client` except the credentials.

    Args:
        base_url: REST base URL, e.g. a staging host or a local simulator.
        realtime_url: WebSocket base URL for realtime events. Default: the real service's realtime
            host for the real API, else the base URL's own host (``http`` → ``ws``).
        timeouts: Per-attempt time limits.
        limits: Connection pool size.
        retry: Retry policy.
        requests_per_second: Optional client-side rate limit shared by every caller of the client.
        user_agent: ``User-Agent`` header.
        instance_auth: How instance routes authenticate: ``"token"`` sends X-Instance-Token and
            X-Client-Token when the handle has an instance token (no JWT needed), ``"jwt"`` always
            sends the owner's JWT.
        token_refresh_skew: Seconds before the JWT's expiry at which it is refreshed.
        wire: The wire forms sent where the docs and the official SDKs disagree.
    """

    base_url: str = attrs.field(default=DEFAULT_BASE_URL, converter=_strip_slash)
    realtime_url: str = attrs.field(
        default=attrs.Factory(lambda self: _realtime_for(self.base_url), takes_self=True),
        converter=_strip_slash,
    )
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    limits: Limits = attrs.field(factory=Limits)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    requests_per_second: float | None = attrs.field(default=None)
    user_agent: str = "vzaps-async/0.1"
    instance_auth: Literal["token", "jwt"] = attrs.field(default="token")
    token_refresh_skew: float = attrs.field(default=60.0, validator=_non_negative)
    wire: WireForms = attrs.field(factory=WireForms)

    @base_url.validator
    def _check_base_url(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, got {value!r}; "
                "e.g. 'https://api.vzaps.com' or a simulator's sim.base_url"
            )

    @requests_per_second.validator
    def _check_rps(self, attribute: attrs.Attribute[float | None], value: float | None) -> None:
        if value is not None and value <= 0:
            raise ValueError(f"requests_per_second must be > 0 or None, got {value!r}")

    @instance_auth.validator
    def _check_instance_auth(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in ("token", "jwt"):
            raise ValueError(f"instance_auth must be 'token' or 'jwt', got {value!r}")
