"""HTTP helpers shared by every simulator route module: envelopes, errors and auth results.

Route handlers return `ok(...)` (the ``{code, success, data}`` envelope), `flat(...)` (a bare body,
for the routes the contract documents without an envelope) or `no_content()`, and raise `SimError`
for failures; the app's middleware turns a `SimError` into the contract's error body
(``{code, success: false, error, message, error_code}``) and adds ``X-Request-Id`` to every
response.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

__all__ = ["PARSED_BODY_KEY", "SimError", "error_body", "flat", "no_content", "ok", "read_json"]

#: The request's JSON body as the middleware already decoded it (for the contract check), so
#: `read_json` does not decode it twice.
PARSED_BODY_KEY: web.RequestKey[Any] = web.RequestKey("vzaps_sim_parsed_body", object)


class SimError(Exception):
    """An API error answer.

    Args:
        status: HTTP status.
        error_code: Upper-case string code (``INSTANCE_NOT_FOUND``, ``VALIDATION_ERROR``, ...).
        message: Human-readable message.
        headers: Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self, status: int, error_code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = headers or {}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def ok(data: Any, status: int = 200) -> web.Response:
    """Answer with the ``{code, success, data}`` envelope.

    Args:
        data: The payload.
        status: HTTP status.
    """
    return web.Response(
        text=_dumps({"code": status, "success": True, "data": data}),
        status=status,
        content_type="application/json",
    )


def flat(body: Any, status: int = 200) -> web.Response:
    """Answer with a bare JSON body (no envelope).

    Args:
        body: The JSON body.
        status: HTTP status.
    """
    return web.Response(text=_dumps(body), status=status, content_type="application/json")


def no_content() -> web.Response:
    """Answer 204 with no body."""
    return web.Response(status=204)


def error_body(status: int, error_code: str, message: str) -> dict[str, Any]:
    """Build the contract's error body (readable by every official SDK's error parser).

    Args:
        status: HTTP status.
        error_code: Upper-case string code.
        message: Human-readable message.
    """
    return {
        "code": status,
        "success": False,
        "error": message,
        "message": message,
        "error_code": error_code,
    }


async def read_json(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """Read a JSON object body, or raise a 400 `SimError` naming the problem.

    Args:
        request: The request.
        required: False accepts an empty body as ``{}``.
    """
    if PARSED_BODY_KEY in request:
        value = request[PARSED_BODY_KEY]
    else:
        raw = await request.read()
        if not raw.strip():
            if required:
                raise SimError(400, "VALIDATION_ERROR", "request body is required (JSON object)")
            return {}
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise SimError(400, "VALIDATION_ERROR", f"body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SimError(400, "VALIDATION_ERROR", "body must be a JSON object")
    return value
