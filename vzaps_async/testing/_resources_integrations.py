"""TypeBot (§2.10) and Chatwoot (§2.11) integration routes of the simulator.

Flat ``{"status": "ok"}`` answers where the contract documents them (TypeBot update, delete and
session start); the envelope everywhere else. Session start answers ``{"status": "ok",
"session": {...}}``: the documented flat status plus the opened session the SDK docs mention.
Starting a session for a contact that already has one on the same bot replaces it.

Chatwoot: one configuration per instance. The Chatwoot ``token`` is never returned; answers carry
``token_masked`` and the computed ``webhook_url`` (on the simulator's own origin). ``token`` may be
omitted when updating an existing configuration (it is kept); a missing configuration answers 404
``CHATWOOT_NOT_CONFIGURED``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ._contract import TYPEBOT_REQUIRED
from ._http import SimError, flat, ok, read_json
from ._resources_common import Ctx, context
from ._resources_store import new_uuid, rfc3339
from ._validate import invalid, opt_bool, opt_int, opt_str, req_str, req_target

__all__ = ["routes"]

_TRIGGER_TYPES = frozenset(
    {"all", "keyword", "contains", "starts_with", "regex", "advanced", "none"}
)
_TRIGGER_OPERATORS = frozenset({"equals", "contains", "starts_with", "regex"})
_TYPEBOT_STR_FIELDS = ("keyword_finish", "unknown_message", "trigger_value", "trigger_operator")
_TYPEBOT_BOOL_FIELDS = (
    "transcribe_audio",
    "listen_from_me",
    "stop_bot_from_me",
    "keep_open",
    "ignore_groups",
)
_TYPEBOT_INT_FIELDS = ("default_delay_ms", "debounce_ms")
_IMPORT_SCOPES = frozenset({"contacts", "messages", "all"})


# ------------------------------------------------------------------------------ typebot


def _validate_typebot(config: dict[str, Any]) -> dict[str, Any]:
    """Check a complete config (after merging an update) and return its stored form."""
    for name in TYPEBOT_REQUIRED:
        if config.get(name) is None:
            raise invalid(name, "is required")
    if opt_bool(config, "enabled") is None:
        raise invalid("enabled", "is required")
    req_str(config, "description")
    url = req_str(config, "typebot_url")
    if not url.startswith(("https://", "http://")):
        raise invalid("typebot_url", "must be an http(s) URL")
    req_str(config, "public_id")
    trigger_type = req_str(config, "trigger_type")
    if trigger_type not in _TRIGGER_TYPES:
        raise invalid("trigger_type", f"must be one of {', '.join(sorted(_TRIGGER_TYPES))}")
    for name in _TYPEBOT_STR_FIELDS:
        opt_str(config, name)
    if trigger_type not in ("all", "none"):
        value = req_str(config, "trigger_value")
        if trigger_type == "regex" or (
            trigger_type == "advanced" and config.get("trigger_operator") == "regex"
        ):
            try:
                re.compile(value)
            except re.error as exc:
                raise invalid("trigger_value", f"invalid regular expression: {exc}") from None
    if trigger_type == "advanced":
        operator = req_str(config, "trigger_operator")
        if operator not in _TRIGGER_OPERATORS:
            raise invalid(
                "trigger_operator", f"must be one of {', '.join(sorted(_TRIGGER_OPERATORS))}"
            )
    elif config.get("trigger_operator"):
        raise invalid("trigger_operator", "is only allowed with trigger_type 'advanced'")
    opt_int(config, "priority")
    opt_int(config, "expire_in_minutes", minimum=0)
    for name in _TYPEBOT_INT_FIELDS:
        opt_int(config, name, minimum=0)
    for name in _TYPEBOT_BOOL_FIELDS:
        opt_bool(config, name)
    return config


_TYPEBOT_FIELDS = frozenset(
    TYPEBOT_REQUIRED + _TYPEBOT_STR_FIELDS + _TYPEBOT_BOOL_FIELDS + _TYPEBOT_INT_FIELDS
)


def _typebot(ctx: Ctx, request: web.Request) -> dict[str, Any]:
    config = ctx.store.chatbots.typebots.get(request.match_info["typebot_id"])
    if config is None:
        raise SimError(404, "TYPEBOT_NOT_FOUND", "typebot not found")
    return config


async def typebot_list(request: web.Request) -> web.Response:
    """``GET typebots``: every config, highest priority first."""
    ctx = await context(request)
    configs = sorted(
        ctx.store.chatbots.typebots.values(), key=lambda c: c["priority"], reverse=True
    )
    return ok(configs)


async def typebot_create(request: web.Request) -> web.Response:
    """``POST typebots``: create a config; answers it with its ``typebot_id``."""
    ctx = await context(request)
    body = await read_json(request)
    config = {key: value for key, value in body.items() if key in _TYPEBOT_FIELDS}
    _validate_typebot(config)
    now = rfc3339(ctx.state.clock())
    config = {"typebot_id": new_uuid(), **config, "created_at": now, "updated_at": now}
    ctx.store.chatbots.typebots[config["typebot_id"]] = config
    return ok(config)


async def typebot_update(request: web.Request) -> web.Response:
    """``PATCH typebots/{typebot_id}``: partial update, validated as a whole; flat status."""
    ctx = await context(request)
    body = await read_json(request)
    config = _typebot(ctx, request)
    merged = dict(config)
    merged.update({key: value for key, value in body.items() if key in _TYPEBOT_FIELDS})
    _validate_typebot(merged)
    merged["updated_at"] = rfc3339(ctx.state.clock())
    config.clear()
    config.update(merged)
    return flat({"status": "ok"})


async def typebot_delete(request: web.Request) -> web.Response:
    """``DELETE typebots/{typebot_id}``: delete a config and its sessions; flat status."""
    ctx = await context(request)
    config = _typebot(ctx, request)
    bots = ctx.store.chatbots
    del bots.typebots[config["typebot_id"]]
    for session_id in [
        s for s, session in bots.sessions.items() if session["typebot_id"] == config["typebot_id"]
    ]:
        del bots.sessions[session_id]
    return flat({"status": "ok"})


async def _start(ctx: Ctx, config: dict[str, Any], body: dict[str, Any]) -> web.Response:
    target = req_target(body)
    message = req_str(body, "message")
    push_name = opt_str(body, "push_name") or ""
    now = rfc3339(ctx.state.clock())
    sessions = ctx.store.chatbots.sessions
    for session_id in [
        s
        for s, session in sessions.items()
        if session["remote_jid"] == target.jid and session["typebot_id"] == config["typebot_id"]
    ]:
        del sessions[session_id]
    session = {
        "session_id": new_uuid(),
        "typebot_id": config["typebot_id"],
        "public_id": config["public_id"],
        "remote_jid": target.jid,
        "phone": target.phone,
        "push_name": push_name,
        "status": "opened",
        "last_message": message,
        "created_at": now,
        "updated_at": now,
    }
    sessions[session["session_id"]] = session
    return flat({"status": "ok", "session": session})


async def session_start(request: web.Request) -> web.Response:
    """``POST typebots/sessions/start``: start the flow of the config with ``public_id``."""
    ctx = await context(request)
    body = await read_json(request)
    public_id = req_str(body, "public_id")
    req_target(body)
    req_str(body, "message")
    for config in ctx.store.chatbots.typebots.values():
        if config["public_id"] == public_id:
            return await _start(ctx, config, body)
    raise SimError(404, "TYPEBOT_NOT_FOUND", "no typebot with this public_id")


async def typebot_session_start(request: web.Request) -> web.Response:
    """``POST typebots/{typebot_id}/sessions/start``: start this config's flow for a contact."""
    ctx = await context(request)
    body = await read_json(request)
    config = _typebot(ctx, request)
    return await _start(ctx, config, body)


async def session_list(request: web.Request) -> web.Response:
    """``GET typebots/sessions``: every session (opened, paused, closed)."""
    ctx = await context(request)
    return ok(list(ctx.store.chatbots.sessions.values()))


def _session_action(status: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        ctx = await context(request)
        session = ctx.store.chatbots.sessions.get(request.match_info["session"])
        if session is None:
            raise SimError(404, "SESSION_NOT_FOUND", "typebot session not found")
        if session["status"] == "closed" and status != "closed":
            raise SimError(409, "SESSION_CLOSED", "typebot session is closed")
        session["status"] = status
        session["updated_at"] = rfc3339(ctx.state.clock())
        return ok({"status": "ok", "session": session})

    handler.__doc__ = f"``POST typebots/sessions/{{session}}/...``: set the status to {status}."
    return handler


# ------------------------------------------------------------------------------ chatwoot

_CHATWOOT_STR = ("name_inbox", "sign_delimiter", "number", "organization", "logo")
_CHATWOOT_BOOL = (
    "sign_msg",
    "reopen_conversation",
    "conversation_pending",
    "import_contacts",
    "import_messages",
    "auto_create",
    "ignore_groups",
)


def _mask(token: str) -> str:
    return "*" * 8 + (token[-4:] if len(token) >= 12 else "")


def _chatwoot_view(request: web.Request, ctx: Ctx, config: dict[str, Any]) -> dict[str, Any]:
    view = {key: value for key, value in config.items() if key != "token"}
    view["token_masked"] = _mask(config["token"])
    view["webhook_url"] = f"{request.url.origin()}/chatwoot/webhook/{ctx.instance.id}"
    return view


async def chatwoot_get(request: web.Request) -> web.Response:
    """``GET chatwoot``: the configuration (token masked)."""
    ctx = await context(request)
    config = ctx.store.chatbots.chatwoot
    if config is None:
        raise SimError(404, "CHATWOOT_NOT_CONFIGURED", "chatwoot is not configured")
    return ok(_chatwoot_view(request, ctx, config))


async def chatwoot_set(request: web.Request) -> web.Response:
    """``POST chatwoot``: save the configuration (replaces it; ``token`` kept when omitted)."""
    ctx = await context(request)
    body = await read_json(request)
    previous = ctx.store.chatbots.chatwoot
    enabled = opt_bool(body, "enabled")
    if enabled is None:
        raise invalid("enabled", "is required")
    url = req_str(body, "url")
    if not url.startswith(("https://", "http://")):
        raise invalid("url", "must be an http(s) URL")
    account_id = body.get("account_id")
    if isinstance(account_id, int) and not isinstance(account_id, bool):
        account_id = str(account_id)
    if account_id is None:
        raise invalid("account_id", "is required")
    if not isinstance(account_id, str) or not account_id.isdigit():
        raise invalid("account_id", "must be a numeric string")
    token = opt_str(body, "token")
    if token is None and previous is not None:
        token = previous["token"]
    if not token:
        raise invalid("token", "is required")
    config: dict[str, Any] = {
        "enabled": enabled,
        "url": url.rstrip("/"),
        "account_id": account_id,
        "token": token,
    }
    for name in _CHATWOOT_STR:
        config[name] = opt_str(body, name) or ""
    for name in _CHATWOOT_BOOL:
        config[name] = bool(opt_bool(body, name))
    config["days_limit_import_messages"] = (
        opt_int(body, "days_limit_import_messages", minimum=1) or 3
    )
    ignore = body.get("ignore_jids") or []
    if not isinstance(ignore, list) or not all(isinstance(j, str) for j in ignore):
        raise invalid("ignore_jids", "must be an array of strings")
    config["ignore_jids"] = list(ignore)
    ctx.store.chatbots.chatwoot = config
    return ok(_chatwoot_view(request, ctx, config))


async def chatwoot_delete(request: web.Request) -> web.Response:
    """``DELETE chatwoot``: remove the configuration."""
    ctx = await context(request)
    if ctx.store.chatbots.chatwoot is None:
        raise SimError(404, "CHATWOOT_NOT_CONFIGURED", "chatwoot is not configured")
    ctx.store.chatbots.chatwoot = None
    return ok({"status": "ok"})


async def chatwoot_import(request: web.Request) -> web.Response:
    """``POST chatwoot/import/{what}``: start an import of contacts, messages or all."""
    ctx = await context(request)
    what = request.match_info["what"]
    if what not in _IMPORT_SCOPES:
        raise invalid("what", f"must be one of {', '.join(sorted(_IMPORT_SCOPES))}")
    config = ctx.store.chatbots.chatwoot
    if config is None:
        raise SimError(404, "CHATWOOT_NOT_CONFIGURED", "chatwoot is not configured")
    config["last_import"] = {"scope": what, "requested_at": rfc3339(ctx.state.clock())}
    return ok({"status": "ok", "scope": what})


_BASE = "/instances/{id}"
#: The TypeBot and Chatwoot routes, added by `build_app`.
routes = [
    web.get(f"{_BASE}/typebots", typebot_list),
    web.post(f"{_BASE}/typebots", typebot_create),
    web.get(f"{_BASE}/typebots/sessions", session_list),
    web.post(f"{_BASE}/typebots/sessions/start", session_start),
    web.post(f"{_BASE}/typebots/sessions/{{session}}/pause", _session_action("paused")),
    web.post(f"{_BASE}/typebots/sessions/{{session}}/close", _session_action("closed")),
    web.patch(f"{_BASE}/typebots/{{typebot_id}}", typebot_update),
    web.delete(f"{_BASE}/typebots/{{typebot_id}}", typebot_delete),
    web.post(f"{_BASE}/typebots/{{typebot_id}}/sessions/start", typebot_session_start),
    web.get(f"{_BASE}/chatwoot", chatwoot_get),
    web.post(f"{_BASE}/chatwoot", chatwoot_set),
    web.delete(f"{_BASE}/chatwoot", chatwoot_delete),
    web.post(f"{_BASE}/chatwoot/import/{{what}}", chatwoot_import),
]
