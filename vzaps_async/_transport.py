"""Session layer: one aiohttp ClientSession, auth headers, envelope decoding, error mapping,
retries and limits. (Interface first; the implementation lands in the next commit.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ._secret import Secret

AuthKind = Literal["none", "jwt", "instance"]
ParamValue = str | int | float | bool


class Transport:
    """Sends requests for a `Client`; the API modules call `request` and nothing else."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        auth: AuthKind = "jwt",
        instance_token: Secret | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API request and return its decoded payload.

        Args:
            method: HTTP method.
            path: Path below the base URL, starting with ``/``; path parameters already quoted.
            json: JSON body (None sends no body).
            params: Query parameters (booleans become ``true``/``false``; None values dropped).
            auth: ``"jwt"`` for account routes (Bearer JWT + X-Client-Token), ``"instance"`` for
                instance routes (X-Instance-Token + X-Client-Token when ``instance_token`` is given
                and the config says ``instance_auth="token"``, else the JWT), ``"none"`` for none.
            instance_token: The instance's token, for ``auth="instance"``.
            idempotent: Whether the call may be replayed after an unknown outcome. Default: True
                for GET/HEAD/OPTIONS/DELETE, False otherwise (pass True for read-only POSTs).

        Returns:
            The payload: ``data`` when the body is a ``{success, data}`` envelope, else the whole
            decoded body; None for an empty body (204).
        """
        raise NotImplementedError

    async def auth_headers(self, auth: AuthKind, instance_token: Secret | None = None) -> dict[str, str]:
        """Return the headers a request with this auth would carry (for the realtime WebSocket)."""
        raise NotImplementedError
