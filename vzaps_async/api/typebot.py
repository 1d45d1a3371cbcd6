"""TypeBot integration of an instance: bot configurations and their sessions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async._convert import unstructure
from vzaps_async.errors import InputError, ResponseError
from vzaps_async.models.common import StatusResult
from vzaps_async.models.typebot import (
    TypebotConfig,
    TypebotSession,
    TypebotSettings,
    TypebotTriggerType,
)

from ._base import InstanceRoute, drop_none, parse

__all__ = ["TypebotAPI"]

_REQUIRED = (
    "enabled",
    "description",
    "typebot_url",
    "public_id",
    "trigger_type",
    "priority",
    "expire_in_minutes",
)
_NO_VALUE_TRIGGERS = (TypebotTriggerType.ALL.value, TypebotTriggerType.NONE.value)


def _settings_body(settings: TypebotSettings) -> dict[str, Any]:
    # Exactly TypebotSettings: a TypebotConfig is one too, but its id and times are not settings.
    if type(settings) is not TypebotSettings:
        raise InputError("settings", f"must be a TypebotSettings, not {type(settings).__name__}")
    if settings.typebot_url is not None:
        validate.web_url(settings.typebot_url, "typebot_url")
    if settings.expire_in_minutes is not None:
        validate.integer(settings.expire_in_minutes, "expire_in_minutes", minimum=0)
    body: dict[str, Any] = unstructure(settings)
    return body


def _sessions(payload: Any, *, method: str, path: str) -> tuple[TypebotSession, ...]:
    if isinstance(payload, dict):
        payload = payload.get("sessions", payload.get("content", payload.get("items")))
    if payload is None:
        return ()
    if not isinstance(payload, list):
        raise ResponseError(
            f"expected a list of sessions, got {type(payload).__name__}",
            status=200,
            method=method,
            path=path,
        )
    return parse(payload, tuple[TypebotSession, ...], method=method, path=path)


def _session(payload: Any, *, method: str, path: str) -> TypebotSession:
    """One session from ``{"status": "ok"}``, the session object, or both nested
    (``{"status": "ok", "session": {...}}``: the session's own fields win)."""
    if payload is None:
        return TypebotSession()
    if isinstance(payload, Mapping) and isinstance(payload.get("session"), Mapping):
        outer = {k: v for k, v in payload.items() if k != "session"}
        payload = {**outer, **payload["session"]}
    return parse(payload, TypebotSession, method=method, path=path)


@attrs.define
class TypebotAPI(InstanceRoute):
    """TypeBot flows wired to one instance."""

    async def list(self) -> tuple[TypebotConfig, ...]:
        """All TypeBot configurations (`GET …/typebots`)."""
        path = self._path("typebots")
        payload = await self._call("GET", path)
        if isinstance(payload, dict):
            payload = payload.get("typebots", payload.get("content", payload.get("items")))
        if payload is None:
            return ()
        if not isinstance(payload, list):
            raise ResponseError(
                f"expected a list of typebots, got {type(payload).__name__}",
                status=200,
                method="GET",
                path=path,
            )
        return parse(payload, tuple[TypebotConfig, ...], method="GET", path=path)

    async def create(self, settings: TypebotSettings) -> TypebotConfig:
        """Add a TypeBot configuration (`POST …/typebots`); not retried after an unknown outcome.

        Args:
            settings: The configuration; see `TypebotSettings` for the required fields.
        """
        body = _settings_body(settings)
        for field in _REQUIRED:
            if body.get(field) is None:
                raise InputError(field, "is required to create a typebot")
        if body["trigger_type"] not in _NO_VALUE_TRIGGERS and not body.get("trigger_value"):
            raise InputError(
                "trigger_value", f"is required for trigger_type {body['trigger_type']!r}"
            )
        return await self._parsed(TypebotConfig, "POST", self._path("typebots"), json=body)

    async def update(self, typebot_id: str, settings: TypebotSettings) -> StatusResult:
        """Change some fields of a configuration (`PATCH …/typebots/{typebot_id}`).

        Args:
            typebot_id: The configuration.
            settings: The fields to change (None fields are left as they are).
        """
        body = _settings_body(settings)
        if not body:
            raise InputError("settings", "set at least one field to change")
        path = self._path("typebots", validate.non_empty(typebot_id, "typebot_id"))
        return await self._status("PATCH", path, json=body, idempotent=True)

    async def delete(self, typebot_id: str) -> StatusResult:
        """Delete a configuration and its sessions (`DELETE …/typebots/{typebot_id}`).

        Args:
            typebot_id: The configuration.
        """
        path = self._path("typebots", validate.non_empty(typebot_id, "typebot_id"))
        return await self._status("DELETE", path)

    async def sessions(self) -> tuple[TypebotSession, ...]:
        """All TypeBot sessions of the instance (`GET …/typebots/sessions`)."""
        path = self._path("typebots", "sessions")
        return _sessions(await self._call("GET", path), method="GET", path=path)

    async def _session_call(
        self, path: str, body: dict[str, Any] | None = None, *, idempotent: bool = False
    ) -> TypebotSession:
        payload = await self._call("POST", path, json=body, idempotent=idempotent)
        return _session(payload, method="POST", path=path)

    async def start_session(
        self, public_id: str, phone: str, message: str, *, push_name: str | None = None
    ) -> TypebotSession:
        """Start a flow with a contact by the flow's public id (`POST …/typebots/sessions/start`).

        The reference documents ``{"status": "ok"}``, the SDK docs the session itself; an answer
        ``{"status": "ok", "session": {...}}`` is read as the session. With only
        ``{"status": "ok"}``, only `TypebotSession.status` is set.

        Args:
            public_id: The flow's public id.
            phone: The contact's number.
            message: The first text handed to the flow.
            push_name: The contact's display name.
        """
        body = {
            "public_id": validate.non_empty(public_id, "public_id"),
            "phone": validate.phone(phone),
            "message": validate.non_empty(message, "message"),
            **drop_none(
                push_name=None if push_name is None else validate.non_empty(push_name, "push_name")
            ),
        }
        return await self._session_call(self._path("typebots", "sessions", "start"), body)

    async def start_bot_session(
        self, typebot_id: str, phone: str, message: str, *, push_name: str | None = None
    ) -> TypebotSession:
        """Start a configured bot with a contact (`POST …/typebots/{typebot_id}/sessions/start`).

        Args:
            typebot_id: The configuration.
            phone: The contact's number.
            message: The first text handed to the flow.
            push_name: The contact's display name.
        """
        typebot_id = validate.non_empty(typebot_id, "typebot_id")
        body = {
            "phone": validate.phone(phone),
            "message": validate.non_empty(message, "message"),
            **drop_none(
                push_name=None if push_name is None else validate.non_empty(push_name, "push_name")
            ),
        }
        return await self._session_call(
            self._path("typebots", typebot_id, "sessions", "start"), body
        )

    async def pause_session(self, session_id: str) -> TypebotSession:
        """Pause a session (`POST …/typebots/sessions/{session}/pause`).

        Args:
            session_id: The session UUID.
        """
        session_id = validate.non_empty(session_id, "session_id")
        return await self._session_call(
            self._path("typebots", "sessions", session_id, "pause"), idempotent=True
        )

    async def close_session(self, session_id: str) -> TypebotSession:
        """Close a session (`POST …/typebots/sessions/{session}/close`).

        Args:
            session_id: The session UUID.
        """
        session_id = validate.non_empty(session_id, "session_id")
        return await self._session_call(
            self._path("typebots", "sessions", session_id, "close"), idempotent=True
        )
