"""Event routes of the simulator: webhook settings and logs, the realtime socket, the control API.

Control API: ``POST /__sim/instances/{id}/events`` injects an event, ``POST
/__sim/instances/{id}/drop-realtime`` drops the instance's realtime connections and ``POST
/__sim/events/config`` changes the delivery settings.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from ._auth import authorize_instance, get_state
from ._events import get_bus
from ._http import SimError, flat, ok, read_json
from ._validate import event_names, invalid, req_str

__all__ = ["routes"]


async def _get_webhook(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    return ok({"webhook": instance.webhook_url, "subscribe": list(instance.events_subscribe)})


async def _set_webhook(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    body = await read_json(request)
    reads = state.config.webhook_reads
    if reads != "any":
        # A server that reads one form only: the other fields are never looked at.
        body = {k: v for k, v in body.items() if k in (reads, "events")}
        if reads == "webhookURL" and not isinstance(body.get("events"), str | None):
            body.pop("events")
    url: Any = None
    for key in ("webhookURL", "webhook_url", "webhookUrl", "url"):
        if key in body:
            url = body[key]
            break
    if body.get("enabled") is False:
        url = ""
    if url is None and "events" not in body:
        if reads != "any":
            # Nothing this server reads was sent: it answers as if nothing changed.
            return ok({"webhook": instance.webhook_url, "events": instance.events_subscribe_text})
        raise SimError(400, "VALIDATION_ERROR", "webhookURL is required")
    if url is not None:
        if not isinstance(url, str):
            raise invalid("webhookURL", "must be a string")
        if url and not url.startswith(("http://", "https://")):
            raise invalid("webhookURL", "must be an http(s) URL")
    events = None if body.get("events") is None else event_names("events", body["events"])
    if url is not None:
        instance.webhook_url = url
    if events is not None:
        instance.events_subscribe = events
    instance.updated_at = state.clock()
    return ok({"webhook": instance.webhook_url, "events": instance.events_subscribe_text})


def _positive_int(body: dict[str, Any], key: str, default: int, maximum: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(key, "must be a positive integer")
    return min(value, maximum)


async def _search_logs(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    body = await read_json(request, required=False)
    nested = body.get("filter")
    filters: dict[str, Any] = nested if isinstance(nested, dict) else body
    page = _positive_int(body, "page", 1, 1_000_000)
    size = _positive_int(body, "size", 20, 100)
    logs = list(reversed(get_bus(state).logs_of(instance.id)))
    for key in ("status", "event_type", "event_id"):
        wanted = filters.get(key)
        if wanted:
            logs = [log for log in logs if getattr(log, key) == wanted]
    total = len(logs)
    content = [log.to_wire() for log in logs[(page - 1) * size : page * size]]
    return ok(
        {
            "content": content,
            "page": page,
            "size": size,
            "total": total,
            "total_pages": math.ceil(total / size) if total else 0,
        }
    )


async def _get_log(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    return ok(get_bus(state).get_log(instance.id, request.match_info["log_id"]).to_wire())


async def _retry_log(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = await authorize_instance(request, state, request.match_info["id"])
    bus = get_bus(state)
    log = bus.get_log(instance.id, request.match_info["log_id"])
    await bus.webhooks.attempt(log)
    return ok({**log.to_wire(), "retried": True})


async def _serve_realtime(request: web.Request) -> web.StreamResponse:
    return await get_bus(get_state(request)).realtime.serve(request)


async def _control_inject(request: web.Request) -> web.Response:
    state = get_state(request)
    body = await read_json(request)
    event_type = req_str(body, "type")
    event = body.get("event", {})
    if not isinstance(event, dict):
        raise invalid("event", "must be an object")
    media_url = body.get("media_url")
    envelope = await get_bus(state).inject(
        request.match_info["id"],
        event_type,
        event,
        media_url=media_url if isinstance(media_url, str) else None,
    )
    return flat(envelope, status=201)


async def _control_drop(request: web.Request) -> web.Response:
    state = get_state(request)
    instance = state.registry.get(request.match_info["id"])
    dropped = await get_bus(state).drop_connections(instance.id)
    return flat({"dropped": dropped})


async def _control_config(request: web.Request) -> web.Response:
    bus = get_bus(get_state(request))
    body = await read_json(request, required=False)
    try:
        if "retry_delays" in body:
            bus.retry_delays = tuple(float(d) for d in body["retry_delays"])
        if "timeout" in body:
            bus.timeout = float(body["timeout"])
        if "deliver_twice" in body:
            bus.deliver_twice = bool(body["deliver_twice"])
        if "duplicate_rate" in body:
            bus.duplicate_rate = float(body["duplicate_rate"])
        if "local_only" in body:
            bus.local_only = bool(body["local_only"])
    except (TypeError, ValueError) as exc:
        raise SimError(400, "VALIDATION_ERROR", f"invalid setting: {exc}") from None
    return flat(
        {
            "retry_delays": list(bus.retry_delays),
            "timeout": bus.timeout,
            "deliver_twice": bus.deliver_twice,
            "duplicate_rate": bus.duplicate_rate,
            "local_only": bus.local_only,
        }
    )


#: The webhook, realtime and event-control routes, added by `build_app`.
routes = [
    web.get("/instances/{id}/webhook", _get_webhook),
    web.post("/instances/{id}/webhook", _set_webhook),
    web.post("/instances/{id}/webhook/logs/search", _search_logs),
    web.get("/instances/{id}/webhook/logs/{log_id}", _get_log),
    web.post("/instances/{id}/webhook/logs/{log_id}/retry", _retry_log),
    web.get("/events/ws", _serve_realtime),
    web.post("/__sim/instances/{id}/events", _control_inject),
    web.post("/__sim/instances/{id}/drop-realtime", _control_drop),
    web.post("/__sim/events/config", _control_config),
]
