"""Helpers of the simulator tests: plain-HTTP access to one instance of a running simulator (the
resource route tests), and a stand-in for the events module."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import aiohttp
import attrs

from vzaps_async.testing._events import get_bus
from vzaps_async.testing._state import SimState

Auth = Literal["jwt", "instance", "none", "instance_only"]
PHONE = "5511999999999"
MISSING_PHONE = "5511999999990"


class RecordingSink:
    """Stands in for the events module: records what the core publishes."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.changed = asyncio.Event()

    def publish(
        self,
        instance: Any,
        event_type: str,
        event: dict[str, Any],
        *,
        data_extra: dict[str, Any] | None = None,
    ) -> None:
        """Record one event.

        Args:
            instance: The instance.
            event_type: Event type name.
            event: The inner event.
            data_extra: Ignored.
        """
        self.events.append((instance.id, event_type, event))
        self.changed.set()


class Api:
    """Plain-HTTP access to one instance of a running simulator.

    Args:
        base_url: Simulator base URL.
        http: Client session.
        instance_id: Instance id.
        instance_token: Instance token.
        jwt: Account JWT.
        client_token: Account client token.
        state: The simulator state (for connecting and reading events).
    """

    def __init__(
        self,
        base_url: str,
        http: aiohttp.ClientSession,
        instance_id: str,
        instance_token: str,
        jwt: str,
        client_token: str,
        state: SimState,
    ) -> None:
        self.base_url = base_url
        self.http = http
        self.instance_id = instance_id
        self.instance_token = instance_token
        self.jwt = jwt
        self.client_token = client_token
        self.state = state

    def lenient(self) -> None:
        """Let the simulator read every form the official SDKs send, not only the documented one."""
        self.state.config = attrs.evolve(self.state.config, strict=False)

    def headers(self, auth: Auth) -> dict[str, str]:
        """Credential headers for an auth mode.

        Args:
            auth: ``jwt``, ``instance`` (instance + client token), ``instance_only`` or ``none``.
        """
        if auth == "jwt":
            return {"Authorization": f"Bearer {self.jwt}"}
        if auth == "instance":
            return {"X-Instance-Token": self.instance_token, "X-Client-Token": self.client_token}
        if auth == "instance_only":
            return {"X-Instance-Token": self.instance_token}
        return {}

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: dict[str, str] | None = None,
        auth: Auth = "jwt",
    ) -> tuple[int, Any]:
        """Call ``/instances/{id}/<path>``; returns (status, decoded body or None).

        Args:
            method: HTTP method.
            path: Path under the instance.
            json: JSON body.
            params: Query parameters.
            auth: Credentials to send.
        """
        url = f"{self.base_url}/instances/{self.instance_id}/{path}"
        async with self.http.request(
            method, url, json=json, params=params, headers=self.headers(auth)
        ) as response:
            text = await response.text()
            return response.status, (await response.json()) if text else None

    async def data(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        """Call a route that must answer 200 with the envelope; returns ``data``.

        Args:
            method: HTTP method.
            path: Path under the instance.
            json: JSON body.
            kwargs: Passed to `call`.
        """
        status, body = await self.call(method, path, json, **kwargs)
        assert status == 200, body
        assert body["success"] is True
        assert body["code"] == 200
        return body["data"]

    async def flat(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        """Call a route that must answer 200 with a flat (non-envelope) body.

        Args:
            method: HTTP method.
            path: Path under the instance.
            json: JSON body.
            kwargs: Passed to `call`.
        """
        status, body = await self.call(method, path, json, **kwargs)
        assert status == 200, body
        assert "success" not in body
        return body

    async def error(
        self, method: str, path: str, json: Any = None, *, status: int, **kwargs: Any
    ) -> dict[str, Any]:
        """Call a route that must fail with ``status``; returns the error body.

        Args:
            method: HTTP method.
            path: Path under the instance.
            json: JSON body.
            status: Expected HTTP status.
            kwargs: Passed to `call`.
        """
        got, body = await self.call(method, path, json, **kwargs)
        assert got == status, body
        assert body["success"] is False
        return dict(body)

    async def connect(self) -> None:
        """Pair the instance's WhatsApp session (QR shown, then scanned)."""
        await self.data("GET", "session/qr")
        instance = self.state.registry.get(self.instance_id)
        self.state.pairing.scan(instance)
        assert instance.connected

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """Inner ``event`` objects published for this instance, of one type.

        Args:
            event_type: Event type name.
        """
        return [envelope["data"]["event"] for envelope in self.envelopes(event_type)]

    def envelopes(self, event_type: str) -> list[dict[str, Any]]:
        """Whole event envelopes published for this instance, of one type.

        Args:
            event_type: Event type name.
        """
        return [
            envelope
            for envelope in get_bus(self.state).events_of(self.instance_id)
            if envelope["type"] == event_type
        ]


async def open_api(base_url: str, http: aiohttp.ClientSession, sim_state: SimState) -> Api:
    """Get a JWT with the default account and create an instance.

    Args:
        base_url: Simulator base URL.
        http: Client session.
        sim_state: Simulator state.
    """
    account = next(iter(sim_state.accounts.by_id.values()))
    async with http.post(
        f"{base_url}/token",
        json={"client_token": account.client_token, "client_secret": account.client_secret},
    ) as response:
        jwt = (await response.json())["access_token"]
    async with http.put(
        f"{base_url}/instances/create",
        json={"name": "resources"},
        headers={"Authorization": f"Bearer {jwt}"},
    ) as response:
        created = await response.json()
    return Api(
        base_url, http, created["id"], created["token"], jwt, account.client_token, sim_state
    )
