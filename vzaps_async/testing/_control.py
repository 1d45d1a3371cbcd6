"""The simulator's control API under ``/__sim/`` (not part of the VZaps contract).

Lets tests, demos and benchmarks in other processes do what `Simulator` offers in Python:
create accounts, set faults, read counters, list instances (with tokens), command simulated
phones (scan, type a code, drop, log out, turn zombie) and expire every JWT. Answers are flat
JSON; errors use the contract's error body.
"""

from __future__ import annotations

from typing import Any, get_args

from aiohttp import web

from ._auth import get_state
from ._faults import FaultKind, FaultRule
from ._http import SimError, flat, read_json
from ._model import SimInstance, rfc3339
from ._routes_core import session_status_json
from ._state import SimState

__all__ = ["instance_debug_json", "routes"]


def instance_debug_json(state: SimState, instance: SimInstance) -> dict[str, Any]:
    """Everything about an instance a test may want, secrets included (control API only).

    Args:
        state: The simulator state.
        instance: The instance.
    """
    pairing: dict[str, Any] | None = None
    if instance.pairing is not None:
        current = state.pairing.current_qr(instance.pairing)
        pairing = {
            "started_at": rfc3339(instance.pairing.started_at),
            "qr_attempt": current[0] + 1 if current else None,
            "qr_reference": instance.pairing.reference(current[0]) if current else None,
            "qr_expires_at": rfc3339(current[1]) if current else None,
            "pair_code": instance.pairing.pair_code,
            "pair_code_expires_at": rfc3339(instance.pairing.pair_code_expires_at),
        }
    return {
        "id": instance.id,
        "name": instance.name,
        "token": instance.token,
        "account_id": instance.account.id,
        "client_token": instance.account.client_token,
        "billing_status": instance.billing_status,
        "subscription_id": instance.subscription_id,
        "cancel_at": rfc3339(instance.cancel_at),
        "expired_at": rfc3339(instance.expired_at),
        "status": instance.status,
        "connected": instance.connected,
        "phone": instance.phone,
        "pairing": pairing,
        "drop_until": rfc3339(instance.drop_until),
        "zombie": instance.zombie,
    }


def _target(request: web.Request) -> tuple[SimState, SimInstance]:
    """The state and the ``{id}`` instance a control route commands (no credentials needed)."""
    state = get_state(request)
    return state, state.registry.get(request.match_info["id"])


async def health(request: web.Request) -> web.Response:
    """``GET /__sim/health``: 200 once the simulator serves (for scripts that wait for it)."""
    return flat({"status": "ok"})


async def counters(request: web.Request) -> web.Response:
    """``GET /__sim/counters``."""
    return flat(get_state(request).counters.snapshot())


async def reset_counters(request: web.Request) -> web.Response:
    """``POST /__sim/counters/reset``."""
    get_state(request).counters.reset()
    return flat({"status": "ok"})


async def create_account(request: web.Request) -> web.Response:
    """``POST /__sim/accounts`` ``{"card"?: "ok"|"none"|"declined", "client_token"?, ...}``."""
    state = get_state(request)
    body = await read_json(request, required=False)
    card = body.get("card", "ok")
    if card not in ("ok", "none", "declined"):
        raise SimError(400, "VALIDATION_ERROR", "card: must be 'ok', 'none' or 'declined'")
    try:
        account = state.accounts.add(
            card=card,
            client_token=body.get("client_token"),
            client_secret=body.get("client_secret"),
        )
    except ValueError as exc:
        raise SimError(409, "CONFLICT", str(exc)) from None
    return flat(
        {
            "id": account.id,
            "client_token": account.client_token,
            "client_secret": account.client_secret,
            "card": account.card,
        }
    )


async def get_faults(request: web.Request) -> web.Response:
    """``GET /__sim/faults``."""
    return flat(get_state(request).faults.to_json())


async def set_faults(request: web.Request) -> web.Response:
    """``POST /__sim/faults`` ``{"rules": [FaultRule...], "seed"?, "force"?: [...]}``.

    ``force`` entries are ``{"route", "kind", "times"?}`` (see `Faults.force`).
    """
    state = get_state(request)
    body = await read_json(request)
    raw_rules = body.get("rules", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise SimError(400, "VALIDATION_ERROR", "rules: must be an array of objects")
    try:
        rules = [FaultRule.from_json(r) for r in raw_rules]
        seed = body.get("seed")
        state.faults.set_rules(rules, seed=seed if isinstance(seed, int) else None)
        for forced in body.get("force", []):
            kind = forced.get("kind")
            if kind not in get_args(FaultKind):
                raise ValueError(f"unknown fault kind {kind!r}")
            state.faults.force(str(forced.get("route", "*")), kind, int(forced.get("times", 1)))
    except (TypeError, ValueError) as exc:
        raise SimError(400, "VALIDATION_ERROR", str(exc)) from None
    return flat(state.faults.to_json())


async def list_instances(request: web.Request) -> web.Response:
    """``GET /__sim/instances``: every instance with tokens and pairing details."""
    state = get_state(request)
    items = []
    for instance in list(state.registry.instances.values()):
        state.refresh(instance)
        items.append(instance_debug_json(state, instance))
    return flat({"instances": items})


async def scan(request: web.Request) -> web.Response:
    """``POST /__sim/instances/{id}/scan`` ``{"reference"?}``: the phone scans the QR."""
    state, instance = _target(request)
    body = await read_json(request, required=False)
    state.pairing.scan(instance, body.get("reference"))
    return flat(session_status_json(instance))


async def pair(request: web.Request) -> web.Response:
    """``POST /__sim/instances/{id}/pair`` ``{"code"?}``: the phone types the pair code."""
    state, instance = _target(request)
    body = await read_json(request, required=False)
    state.pairing.enter_pair_code(instance, body.get("code"))
    return flat(session_status_json(instance))


async def drop(request: web.Request) -> web.Response:
    """``POST /__sim/instances/{id}/drop`` ``{"seconds"}``: the session drops, then comes back."""
    state, instance = _target(request)
    seconds = (await read_json(request)).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise SimError(400, "VALIDATION_ERROR", "seconds: must be a number of seconds")
    state.sessions.drop(instance, float(seconds))
    return flat(instance_debug_json(state, instance))


async def logout(request: web.Request) -> web.Response:
    """``POST /__sim/instances/{id}/logout``: the phone unlinks; a new pairing is needed."""
    state, instance = _target(request)
    state.sessions.logout(instance)
    return flat(instance_debug_json(state, instance))


async def zombie(request: web.Request) -> web.Response:
    """``POST /__sim/instances/{id}/zombie`` ``{"cured_by"?: "restart"|"repair"}``.

    The session keeps saying connected while sends stay queued, until a restart (or only a
    re-pair) cures it.
    """
    state, instance = _target(request)
    cured_by = (await read_json(request, required=False)).get("cured_by", "restart")
    if cured_by not in ("restart", "repair"):
        raise SimError(400, "VALIDATION_ERROR", "cured_by: must be 'restart' or 'repair'")
    state.sessions.make_zombie(instance, cured_by)
    return flat(instance_debug_json(state, instance))


async def complete_checkout(request: web.Request) -> web.Response:
    """``POST /__sim/instances/{id}/complete-checkout``: the hosted checkout was paid."""
    state, instance = _target(request)
    if instance.checkout_session is None:
        raise SimError(409, "NO_CHECKOUT", "no checkout session is open for this instance")
    state.billing.activate(instance)
    return flat(instance_debug_json(state, instance))


async def expire_tokens(request: web.Request) -> web.Response:
    """``POST /__sim/expire-tokens``: every JWT issued so far is expired now."""
    return flat({"expired": get_state(request).accounts.expire_jwts()})


#: The control routes, added by `build_app`.
routes = [
    web.get("/__sim/health", health),
    web.get("/__sim/counters", counters),
    web.post("/__sim/counters/reset", reset_counters),
    web.post("/__sim/accounts", create_account),
    web.get("/__sim/faults", get_faults),
    web.post("/__sim/faults", set_faults),
    web.get("/__sim/instances", list_instances),
    web.post("/__sim/instances/{id}/scan", scan),
    web.post("/__sim/instances/{id}/pair", pair),
    web.post("/__sim/instances/{id}/drop", drop),
    web.post("/__sim/instances/{id}/logout", logout),
    web.post("/__sim/instances/{id}/zombie", zombie),
    web.post("/__sim/instances/{id}/complete-checkout", complete_checkout),
    web.post("/__sim/expire-tokens", expire_tokens),
]
