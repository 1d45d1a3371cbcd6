"""Core routes of the simulator: token, health, instances, billing and session (pairing).

Envelopes follow the contract: create, list, get, update, provision and search answer flat
bodies; cancel (``{"message"}``) and resume (``{"status": "ok"}``) are flat; delete is 204;
everything else uses the ``{code, success, data}`` envelope.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import Any

from aiohttp import web

from ._auth import authorize_account, authorize_instance, get_state
from ._http import SimError, flat, no_content, ok, read_json
from ._model import Account, SimInstance, rfc3339
from ._qr import qr_data_url
from ._state import SimState
from ._validate import event_names, invalid, req_str

__all__ = ["instance_json", "routes"]

_MAX_PAGE_SIZE = 1000
_SORT_KEYS = {"created_at", "updated_at", "name", "id", "billing_status", "status"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def instance_json(state: SimState, instance: SimInstance, *, include_token: bool) -> dict[str, Any]:
    """The public instance summary as the wire shows it.

    Args:
        state: The simulator state.
        instance: The instance.
        include_token: Put the instance ``token`` in the answer.
    """
    body: dict[str, Any] = {"id": instance.id, "name": instance.name}
    if include_token:
        body["token"] = instance.token
    body.update(
        {
            "url": f"{state.config.app_url}/instances/{instance.id}",
            "webhook": instance.webhook_url,
            "events_subscribe": instance.events_subscribe_text,
            "reject_calls": instance.reject_calls,
            "auto_read_messages": instance.auto_read_messages,
            "connected": instance.connected,
            "connected_at": rfc3339(instance.connected_at),
            "whatsapp_push_name": instance.push_name,
            "whatsapp_jid": instance.whatsapp_jid,
            "billing_status": instance.billing_status,
            "status": instance.status,
            "current_period_end": rfc3339(instance.current_period_end),
            "cancel_at": rfc3339(instance.cancel_at),
            "expired_at": rfc3339(instance.expired_at),
            "labels": instance.labels,
            "created_at": rfc3339(instance.created_at),
            "updated_at": rfc3339(instance.updated_at),
        }
    )
    return body


# ------------------------------------------------------------------------------ validation


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("name", "is required and must be a string")
    if not 3 <= len(value) <= 255:
        raise invalid("name", "must be 3-255 characters")
    return value


def _webhook(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise invalid("webhook", "must be an http(s) URL")
    return value


def _bool(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise invalid(field, "must be a boolean")
    return value


def _labels(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("labels", "must be an object")
    return value


def _int(body: dict[str, Any], field: str, default: int, low: int, high: int) -> int:
    value = body.get(field, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(field, f"must be an integer in [{low}, {high}]")
    return value


# ------------------------------------------------------------------------------ auth, health


async def token(request: web.Request) -> web.Response:
    """``POST /token``: exchange client credentials for a bearer token (top-level body)."""
    state = get_state(request)
    body = await read_json(request)
    client_token = body.get("client_token")
    client_secret = body.get("client_secret")
    if not isinstance(client_token, str) or not client_token:
        raise invalid("client_token", "is required")
    if not isinstance(client_secret, str) or not client_secret:
        raise invalid("client_secret", "is required")
    account = state.accounts.by_client_token(client_token)
    if account is None or not secrets.compare_digest(account.client_secret, client_secret):
        raise SimError(401, "UNAUTHORIZED", "invalid client credentials")
    access_token, lifetime = state.accounts.issue_jwt(account)
    return flat({"access_token": access_token, "expires_in": int(lifetime), "token_type": "Bearer"})


async def health(request: web.Request) -> web.Response:
    """``GET /health``: liveness."""
    return flat({"status": "ok"})


# ------------------------------------------------------------------------------ instances


async def create_instance(request: web.Request) -> web.Response:
    """``PUT /instances/create``: create an instance; answers the flat instance object."""
    state = get_state(request)
    account = await authorize_account(request, state)
    body = await read_json(request)
    instance = _create_from_body(state, account, body)
    return flat(instance_json(state, instance, include_token=True))


def _create_from_body(state: SimState, account: Account, body: dict[str, Any]) -> SimInstance:
    name = _name(body.get("name"))
    return state.registry.create(
        account,
        name,
        webhook_url=_webhook(body.get("webhook")),
        events_subscribe=event_names("events_subscribe", body.get("events_subscribe")),
        reject_calls=_bool(body, "reject_calls", False),
        auto_read_messages=_bool(body, "auto_read_messages", False),
        labels=_labels(body.get("labels")),
    )


async def provision_instance(request: web.Request) -> web.Response:
    """``PUT /instances/provision``: return the account's instance of that name, or create it."""
    state = get_state(request)
    account = await authorize_account(request, state)
    body = await read_json(request)
    existing = state.registry.named(account, _name(body.get("name")))
    if existing:
        instance = existing[0]
        state.refresh(instance)
        return flat(instance_json(state, instance, include_token=True))
    instance = _create_from_body(state, account, body)
    return flat(instance_json(state, instance, include_token=True))


def _page(state: SimState, account: Account, body: dict[str, Any]) -> dict[str, Any]:
    page = _int(body, "page", 1, 1, 10**9)
    size = _int(body, "size", 20, 1, _MAX_PAGE_SIZE)
    filters = body.get("filter") or {}
    if not isinstance(filters, dict):
        raise invalid("filter", "must be an object")
    query = filters.get("query", body.get("query"))
    if query is not None and not isinstance(query, str):
        raise invalid("filter.query", "must be a string")
    needle = (query or "").casefold()
    sort = body.get("sort") or "created_at"
    if not isinstance(sort, str):
        raise invalid("sort", "must be a string")
    sort_key = _CAMEL.sub("_", sort).lower()
    if sort_key not in _SORT_KEYS:
        raise invalid("sort", f"must be one of {sorted(_SORT_KEYS)} (camelCase accepted)")
    descending = body.get("sortDesc", body.get("sort_desc", False))
    if not isinstance(descending, bool):
        raise invalid("sortDesc", "must be a boolean")
    matches = [
        instance
        for instance in state.registry.of_account(account)
        if not needle or needle in instance.name.casefold() or needle in instance.id.casefold()
    ]
    for key in ("status", "billing_status", "name"):
        wanted = filters.get(key)
        if isinstance(wanted, str):
            matches = [i for i in matches if getattr(i, key) == wanted]
    if isinstance(filters.get("connected"), bool):
        matches = [i for i in matches if bool(i.connected) is filters["connected"]]
    # A stable sort: ties keep creation order.
    matches.sort(key=lambda i: getattr(i, sort_key), reverse=descending)
    total = len(matches)
    start = (page - 1) * size
    include_token = state.config.expose_token_in_list
    billing: dict[str, int] = {}
    for instance in matches:
        billing[instance.billing_status] = billing.get(instance.billing_status, 0) + 1
    return {
        "page": page,
        "size": size,
        "total": total,
        "total_pages": math.ceil(total / size),
        "content": [
            instance_json(state, i, include_token=include_token)
            for i in matches[start : start + size]
        ],
        "summary": {
            "total": total,
            "connected": sum(1 for i in matches if i.connected),
            "billing_status": billing,
        },
    }


async def list_instances(request: web.Request) -> web.Response:
    """``POST /instances/list``: one page of the account's instances (flat page)."""
    state = get_state(request)
    account = await authorize_account(request, state)
    body = await read_json(request, required=False)
    return flat(_page(state, account, body))


async def search_instances(request: web.Request) -> web.Response:
    """``POST /instances/search``: like list, with a free-form body (unknown keys ignored)."""
    state = get_state(request)
    account = await authorize_account(request, state)
    body = await read_json(request, required=False)
    return flat(_page(state, account, body))


async def get_instance_by_body(request: web.Request) -> web.Response:
    """``POST /instances/get``: one instance by ``{"id"}`` (flat)."""
    state = get_state(request)
    body = await read_json(request)
    instance_id = req_str(body, "id")
    instance = await authorize_instance(request, state, instance_id)
    return flat(instance_json(state, instance, include_token=state.config.expose_token_in_list))


async def get_instance(request: web.Request) -> web.Response:
    """``GET /instances/{id}``: one instance (flat)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    return flat(instance_json(state, instance, include_token=state.config.expose_token_in_list))


async def update_instance(request: web.Request) -> web.Response:
    """``PATCH /instances/{id}``: change name, webhook, events, flags or labels (flat)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    body = await read_json(request)
    # Validate everything before changing anything.
    name = _name(body["name"]) if "name" in body else None
    webhook = _webhook(body["webhook"]) if "webhook" in body else None
    events = (
        event_names("events_subscribe", body["events_subscribe"])
        if "events_subscribe" in body
        else None
    )
    reject = _bool(body, "reject_calls", instance.reject_calls)
    auto_read = _bool(body, "auto_read_messages", instance.auto_read_messages)
    labels = _labels(body["labels"]) if "labels" in body else None
    if name is not None and name != instance.name:
        state.registry.rename(instance, name)
    if webhook is not None:
        instance.webhook_url = webhook
    if events is not None:
        instance.events_subscribe = events
    instance.reject_calls = reject
    instance.auto_read_messages = auto_read
    if labels is not None:
        instance.labels = labels
    instance.updated_at = state.clock()
    return flat(instance_json(state, instance, include_token=state.config.expose_token_in_list))


async def delete_instance(request: web.Request) -> web.Response:
    """``DELETE /instances/{id}``: delete (204)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    if instance.connected:
        state.sessions.disconnect(instance, reason="deleted")
    state.registry.delete(instance)
    return no_content()


def _action(instance: SimInstance, status: str, details: str) -> web.Response:
    return ok({"instance_id": instance.id, "status": status, "details": details})


async def restart_instance(request: web.Request) -> web.Response:
    """``POST /instances/{id}/restart``: restart the runtime (keeps the WhatsApp session)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    state.sessions.restart(instance)
    return _action(instance, "restarted", "instance runtime restarted")


# ------------------------------------------------------------------------------ billing


async def subscribe(request: web.Request) -> web.Response:
    """``POST /instances/{id}/subscribe``: start the paid subscription (direct or checkout)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"], jwt_only=True)
    body = await read_json(request, required=False)
    billing_type = body.get("billing_type", body.get("billingType", body.get("billing")))
    if instance.subscribed and instance.billing_status != "CANCELED":
        raise SimError(409, "ALREADY_SUBSCRIBED", "instance already has a subscription")
    card = instance.account.card
    wants_checkout = billing_type == "checkout"
    if card == "none" and not wants_checkout:
        if state.config.subscribe_without_card == "error":
            raise SimError(
                state.config.no_card_status,
                "NO_PAYMENT_METHOD",
                "no default payment method on the account; add a card in the app",
            )
        wants_checkout = True
    if wants_checkout:
        session_id = "cs_sim_" + secrets.token_hex(12)
        instance.checkout_session = session_id
        return ok(
            {
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "session_id": session_id,
                "mode": "checkout",
                "subscription_id": None,
            }
        )
    if card == "declined":
        raise SimError(state.config.declined_status, "PAYMENT_REQUIRED", "the card was declined")
    subscription_id = state.billing.activate(instance)
    return ok(
        {"url": None, "session_id": None, "mode": "direct", "subscription_id": subscription_id}
    )


async def cancel(request: web.Request) -> web.Response:
    """``PUT``/``DELETE /instances/{id}/cancel``: cancel now or at period end (flat message)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"], jwt_only=True)
    return flat({"message": state.billing.cancel(instance)})


async def resume_subscription(request: web.Request) -> web.Response:
    """``POST /instances/{id}/resume-subscription``: undo a scheduled cancel (flat status)."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"], jwt_only=True)
    state.billing.resume(instance)
    return flat({"status": "ok"})


# ------------------------------------------------------------------------------ session


def _check_can_pair(state: SimState, instance: SimInstance) -> None:
    if instance.billing_status == "CANCELED":
        raise SimError(402, "PAYMENT_REQUIRED", "the instance subscription is canceled")
    if state.config.require_subscription_for_pairing and instance.billing_status != "ACTIVE":
        raise SimError(402, "PAYMENT_REQUIRED", "an active subscription is required to pair")


async def session_qr(request: web.Request) -> web.Response:
    """``GET /instances/{id}/session/qr``: start the worker and show the current QR code."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    if instance.connected:
        return ok({"status": "connected", "phone": instance.phone})
    _check_can_pair(state, instance)
    pairing = state.pairing.start(instance)
    current = state.pairing.current_qr(pairing)
    if current is None:
        return ok({"status": "starting"})
    attempt, expires_at = current
    return ok(
        {
            "qr_code": qr_data_url(pairing.reference(attempt)),
            "expires_in": max(1, math.ceil(expires_at - state.clock())),
            "expires_at": rfc3339(expires_at),
        }
    )


async def session_paircode(request: web.Request) -> web.Response:
    """``GET /instances/{id}/session/paircode/{phone}``: an 8-character phone pair code."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    if instance.connected:
        raise SimError(409, "ALREADY_CONNECTED", "instance is already connected")
    _check_can_pair(state, instance)
    code = state.pairing.issue_pair_code(instance, request.match_info["phone"])
    return ok({"linking_code": code, "LinkingCode": code})


_PROFILE_HEAD = ("business_name", "business_profile", "profile_picture_id", "profile_picture_url")
_PROFILE_TAIL = ("verified_name", "about", "website")


def session_status_json(instance: SimInstance) -> dict[str, Any]:
    """``session/status`` data: ``{"connected": false}`` or the profile in the contract's order.

    Args:
        instance: The instance.
    """
    if not instance.connected:
        return {"connected": False}
    body: dict[str, Any] = {
        "connected": True,
        "phone": instance.phone,
        "whatsapp_jid": instance.whatsapp_jid,
        "push_name": instance.push_name,
    }
    for key in _PROFILE_HEAD:
        body[key] = instance.profile.get(key)
    body["profile_url"] = f"https://wa.me/{instance.phone}"
    for key in _PROFILE_TAIL:
        body[key] = instance.profile.get(key)
    return {key: value for key, value in body.items() if value not in (None, "", {}, [])}


async def session_status(request: web.Request) -> web.Response:
    """``GET /instances/{id}/session/status``: WhatsApp connection state."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    return ok(session_status_json(instance))


async def session_disconnect(request: web.Request) -> web.Response:
    """``POST /instances/{id}/session/disconnect``: log the WhatsApp session out."""
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    state.sessions.disconnect(instance)
    return _action(instance, "disconnected", "whatsapp session logged out")


#: The core routes, added by `build_app`.
routes = [
    web.post("/token", token),
    web.get("/health", health),
    web.put("/instances/create", create_instance),
    web.post("/instances/list", list_instances),
    web.post("/instances/get", get_instance_by_body),
    web.put("/instances/provision", provision_instance),
    web.post("/instances/search", search_instances),
    web.get("/instances/{id}", get_instance),
    web.patch("/instances/{id}", update_instance),
    web.delete("/instances/{id}", delete_instance),
    web.post("/instances/{id}/restart", restart_instance),
    web.post("/instances/{id}/subscribe", subscribe),
    web.put("/instances/{id}/cancel", cancel),
    web.delete("/instances/{id}/cancel", cancel),
    web.post("/instances/{id}/resume-subscription", resume_subscription),
    web.get("/instances/{id}/session/qr", session_qr),
    web.get("/instances/{id}/session/paircode/{phone}", session_paircode),
    web.get("/instances/{id}/session/status", session_status),
    web.post("/instances/{id}/session/disconnect", session_disconnect),
]
