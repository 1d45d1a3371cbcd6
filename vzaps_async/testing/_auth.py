"""Authentication rules of the contract (§1.4) for simulator routes.

- ``POST /token`` takes no credentials.
- JWT-only routes (create, list, provision, search, billing) need ``Authorization: Bearer <jwt>``.
  Instance-token credentials on them answer ``config.jwt_only_refusal_status`` (401 by default:
  the only credential those routes accept is missing).
- Instance routes accept the owner's JWT, or ``X-Instance-Token`` together with the owner's
  ``X-Client-Token``.
- Missing, unknown or expired credentials answer 401; valid credentials of another account (or of
  another instance) answer 403; an unknown instance with valid account credentials answers 404.
"""

from __future__ import annotations

from aiohttp import web

from ._http import SimError
from ._model import Account, SimInstance
from ._state import STATE_KEY, SimState

__all__ = ["authorize_account", "authorize_instance", "bearer_token", "get_state"]


def get_state(request: web.Request) -> SimState:
    """The simulator state behind a request.

    Args:
        request: The request.
    """
    return request.app[STATE_KEY]


def bearer_token(request: web.Request) -> str | None:
    """The bearer token of a request, if it sent one.

    Args:
        request: The request.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _check_client_token(request: web.Request, state: SimState, account: Account) -> None:
    """An ``X-Client-Token`` sent along a JWT must be the same account's."""
    client_token = request.headers.get("X-Client-Token")
    if client_token and client_token != account.client_token:
        if state.accounts.by_client_token(client_token) is None:
            raise SimError(401, "UNAUTHORIZED", "unknown X-Client-Token")
        raise SimError(403, "FORBIDDEN", "X-Client-Token belongs to another account")


async def authorize_account(request: web.Request, state: SimState) -> Account:
    """Authorize an account-level (JWT-only) route; returns the caller's account.

    Args:
        request: The request.
        state: The simulator state.

    Raises:
        SimError: 401 without a valid JWT (or with instance-token credentials only).
    """
    token = bearer_token(request)
    if token is None:
        if request.headers.get("X-Instance-Token"):
            raise SimError(
                state.config.jwt_only_refusal_status,
                "UNAUTHORIZED",
                "this route requires a JWT (Authorization: Bearer); "
                "instance tokens are not accepted",
            )
        raise SimError(401, "UNAUTHORIZED", "missing Authorization: Bearer access token")
    account = state.accounts.for_jwt(token)
    _check_client_token(request, state, account)
    return account


async def authorize_instance(
    request: web.Request, state: SimState, instance_id: str, *, jwt_only: bool = False
) -> SimInstance:
    """Authorize a route of one instance; returns the instance (brought up to date).

    Args:
        request: The request.
        state: The simulator state.
        instance_id: The ``{id}`` of the route.
        jwt_only: Accept only the owner's JWT (billing routes).

    Raises:
        SimError: 401 missing/invalid credentials, 403 another account's or instance's
            credentials, 404 unknown instance.
    """
    if bearer_token(request) is not None or jwt_only:
        account = await authorize_account(request, state)
        instance = state.registry.get(instance_id)
        if instance.account is not account:
            raise SimError(403, "FORBIDDEN", "instance belongs to another account")
        sent = request.headers.get("X-Instance-Token")
        if sent and sent != instance.token:
            raise SimError(403, "FORBIDDEN", "X-Instance-Token belongs to another instance")
        return instance
    instance_token = request.headers.get("X-Instance-Token")
    client_token = request.headers.get("X-Client-Token")
    if not instance_token or not client_token:
        raise SimError(
            401,
            "UNAUTHORIZED",
            "missing credentials: send Authorization: Bearer, "
            "or X-Instance-Token with X-Client-Token",
        )
    owner_of_token = state.registry.by_token(instance_token)
    client_account = state.accounts.by_client_token(client_token)
    if owner_of_token is None or client_account is None:
        raise SimError(401, "UNAUTHORIZED", "invalid X-Instance-Token or X-Client-Token")
    instance = state.registry.get(instance_id)
    if owner_of_token is not instance:
        raise SimError(403, "FORBIDDEN", "X-Instance-Token belongs to another instance")
    if instance.account is not client_account:
        raise SimError(403, "FORBIDDEN", "X-Client-Token does not belong to the instance owner")
    return instance
