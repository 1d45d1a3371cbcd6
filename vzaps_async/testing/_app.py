"""The simulator's aiohttp application: routes plus one middleware for the cross-cutting rules.

The middleware gives every response an ``X-Request-Id`` (through ``on_response_prepare``, so
WebSocket handshakes get one too), counts requests per route template, applies the per-token rate
limit and the fault rules, checks the request against its documented form (`_contract`: refused
when strict, recorded at ``GET /__sim/contract`` when lenient), and turns `SimError` and
aiohttp's HTTP exceptions into the contract's error body. Routes under ``/__sim/`` (the control
API) are never counted, limited, faulted or checked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import secrets
from typing import Any

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from . import (
    _control,
    _event_routes,
    _events,
    _resources_chat,
    _resources_directory,
    _resources_integrations,
    _routes_core,
)
from ._auth import authorize_account, authorize_instance
from ._contract import (
    CONTRACT_KEY,
    ROUTES,
    ContractLog,
    Deviation,
    RouteContract,
    check,
    webhook_contract,
)
from ._faults import FaultDecision
from ._http import PARSED_BODY_KEY, SimError, error_body, flat
from ._resources_common import RESOURCE_SETTINGS_KEY, ResourceSettings
from ._state import STATE_KEY, SimState

__all__ = ["CONTRACT_KEY", "CONTROL_PREFIX", "build_app", "route_key"]

_log = logging.getLogger("vzaps_async.testing")

#: Path prefix of the simulator's control API.
CONTROL_PREFIX = "/__sim/"

_REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("vzaps_sim_request_id", str)
_WEBHOOK_SET = "POST /instances/{id}/webhook"


def route_key(request: web.Request) -> str:
    """``"METHOD /route/template"`` of a request (``"<unmatched>"`` when no route matched).

    Args:
        request: The request.
    """
    route = request.match_info.route
    resource = route.resource
    template = resource.canonical if resource is not None else "<unmatched>"
    return f"{request.method} {template}"


@attrs.define
class _Bucket:
    tokens: float
    updated: float


@attrs.define
class _RateLimiter:
    """Per-credential token buckets (the bearer token, instance token or client address)."""

    buckets: dict[str, _Bucket] = attrs.field(factory=dict)

    def retry_after(self, state: SimState, key: str) -> float | None:
        """Take one token; ``None`` when allowed, else seconds until a token is available."""
        rate = state.config.rate_limit_per_second
        if rate is None:
            return None
        burst = float(max(1, state.config.rate_limit_burst))
        now = state.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(tokens=burst, updated=now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate


def _credential_key(request: web.Request) -> str:
    auth = request.headers.get("Authorization")
    if auth:
        return "jwt:" + auth
    instance_token = request.headers.get("X-Instance-Token")
    if instance_token:
        return "inst:" + instance_token
    return "addr:" + (request.remote or "?")


def _error_response(error: SimError) -> web.Response:
    response = web.json_response(
        error_body(error.status, error.error_code, error.message), status=error.status
    )
    response.headers.update(error.headers)
    return response


def _http_exception_response(exc: web.HTTPException) -> web.Response:
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
    code = codes.get(exc.status, "HTTP_ERROR" if exc.status < 500 else "INTERNAL_ERROR")
    response = web.json_response(error_body(exc.status, code, exc.reason), status=exc.status)
    for name in ("Allow", "Retry-After", "Location"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def _drop_connection(request: web.Request) -> None:
    """Close the connection without an answer (the client sees a disconnect)."""
    if request.transport is not None:
        request.transport.close()
    # aiohttp treats a cancelled handler like a vanished client: nothing is written or logged.
    raise asyncio.CancelledError


async def _apply_faults_before(
    request: web.Request, state: SimState, decision: FaultDecision
) -> None:
    if decision.latency > 0:
        state.counters.fault("latency")
        await asyncio.sleep(decision.latency)
    if decision.kind == "drop":
        state.counters.fault("drop")
        _drop_connection(request)
    elif decision.kind == "error_5xx":
        state.counters.fault("error_5xx")
        raise SimError(decision.error_status, "INTERNAL_ERROR", "simulated server error")
    elif decision.kind == "rate_limited":
        state.counters.fault("rate_limited")
        raise SimError(
            429,
            "RATE_LIMITED",
            "rate limit exceeded",
            headers={"Retry-After": str(decision.retry_after)},
        )


async def _deviations(request: web.Request, key: str, contract: RouteContract) -> list[Deviation]:
    body: Any = None
    if request.body_exists:
        # aiohttp keeps the bytes read here, so the handler reads the same body again.
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                return []  # the handler answers the JSON error itself
            request[PARSED_BODY_KEY] = body
    content_type = request.headers.get("Content-Type")
    if content_type is not None:
        content_type = content_type.split(";", 1)[0].strip().lower()
    return check(key, contract, body, request.query, content_type)


#: Routes that accept only the owner's JWT (billing).
_JWT_ONLY = ("/subscribe", "/resume-subscription", "/cancel")


async def _authorize(request: web.Request, state: SimState, key: str) -> None:
    path = key.split(" ", 1)[1]
    if path.startswith("/instances/{id}"):
        jwt_only = path.endswith(_JWT_ONLY)
        await authorize_instance(request, state, request.match_info["id"], jwt_only=jwt_only)
    elif path.startswith("/instances/"):
        await authorize_account(request, state)


def _make_middleware(state: SimState, log: ContractLog) -> Middleware:
    limiter = _RateLimiter()
    webhook_set = webhook_contract(state.config.webhook_reads)

    @web.middleware
    async def simulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[_REQUEST_ID_KEY] = "req_" + secrets.token_hex(8)
        decision = FaultDecision()
        try:
            if not request.path.startswith(CONTROL_PREFIX):
                key = route_key(request)
                state.counters.request(key)
                decision = state.faults.decide(key)
                await _apply_faults_before(request, state, decision)
                wait = limiter.retry_after(state, _credential_key(request))
                if wait is not None:
                    state.counters.fault("throttled")
                    raise SimError(
                        429,
                        "RATE_LIMITED",
                        "rate limit exceeded",
                        headers={"Retry-After": str(max(1, math.ceil(wait)))},
                    )
                contract = webhook_set if key == _WEBHOOK_SET else ROUTES.get(key)
                if contract is not None:
                    deviations = await _deviations(request, key, contract)
                    if deviations:
                        if state.config.strict:
                            # Credentials are checked first, as the handler would: a request
                            # that is both unauthorized and malformed answers 401/403/404.
                            await _authorize(request, state, key)
                            raise SimError(400, "VALIDATION_ERROR", deviations[0].message())
                        log.record(deviations)
            response = await handler(request)
        except SimError as error:
            response = _error_response(error)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _http_exception_response(exc)
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:
            _log.exception("simulator handler failed: %s %s", request.method, request.path)
            response = _error_response(SimError(500, "INTERNAL_ERROR", "internal error"))
        if decision.kind == "commit_then_fail":
            state.counters.fault("commit_then_fail")
            _drop_connection(request)
        return response

    return simulator_middleware


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    request_id = request.get(_REQUEST_ID_KEY) or "req_" + secrets.token_hex(8)
    response.headers["X-Request-Id"] = request_id


def build_app(state: SimState) -> web.Application:
    """Build the simulator application over a state: every route module's ``routes``, the
    control API and the event bus.

    Args:
        state: The simulator state.
    """
    log = ContractLog()
    app = web.Application(
        middlewares=[_make_middleware(state, log)], client_max_size=64 * 1024 * 1024
    )
    app[STATE_KEY] = state
    app[CONTRACT_KEY] = log
    app[RESOURCE_SETTINGS_KEY] = ResourceSettings(
        require_connected_for_sends=state.config.require_connected_for_sends
    )

    async def contract_report(request: web.Request) -> web.Response:
        return flat(log.to_wire(strict=state.config.strict))

    app.on_response_prepare.append(_add_request_id)
    app.add_routes(_routes_core.routes)
    app.add_routes(_control.routes)
    app.add_routes([web.get(CONTROL_PREFIX + "contract", contract_report)])
    app.add_routes(_resources_chat.routes)
    app.add_routes(_resources_directory.routes)
    app.add_routes(_resources_integrations.routes)
    app.add_routes(_event_routes.routes)
    _events.install_bus(app, state)
    return app
