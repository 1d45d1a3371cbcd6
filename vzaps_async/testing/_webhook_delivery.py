"""Webhook delivery of simulator events: one log per delivery, retries, loopback-only by default.

The settings (retry delays, timeout, duplicates, ``local_only``, ...) are the `EventBus`'s
fields; this module reads them from the bus that owns it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import random
import secrets
from collections import OrderedDict
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import attrs
from yarl import URL

from ._http import SimError
from ._model import SimInstance

if TYPE_CHECKING:
    from ._events import EventBus

__all__ = ["DeliveryLog", "WebhookDelivery", "iso_ms"]

LogStatus = Literal["pending", "success", "failed"]


def iso_ms(timestamp: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with milliseconds (``2026-06-23T22:57:17.000Z``).

    Args:
        timestamp: Seconds since the epoch.
    """
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_or_none(timestamp: float | None) -> str | None:
    return None if timestamp is None else iso_ms(timestamp)


@attrs.define(eq=False)
class DeliveryLog:
    """One webhook delivery of one event, with its attempts.

    Args:
        id: ``log_...``.
        instance_id: The instance.
        event_id: The delivered event's id.
        event_type: The delivered event's type.
        url: The webhook URL.
        payload: The POSTed envelope.
        created_at: When the delivery was created (epoch seconds).
    """

    id: str
    instance_id: str
    event_id: str
    event_type: str
    url: str
    payload: dict[str, Any]
    created_at: float
    status: LogStatus = "pending"
    attempts: int = 0
    response_status: int | None = None
    response_body: str | None = None
    error: str | None = None
    duplicate: bool = False
    last_attempt_at: float | None = None
    next_attempt_at: float | None = None

    def to_wire(self) -> dict[str, Any]:
        """The log as the API shows it."""
        return {
            "id": self.id,
            "instance_id": self.instance_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "payload": self.payload,
            "response_status": self.response_status,
            "response_body": self.response_body,
            "error": self.error,
            "duplicate": self.duplicate,
            "created_at": iso_ms(self.created_at),
            "last_attempt_at": _iso_or_none(self.last_attempt_at),
            "next_attempt_at": _iso_or_none(self.next_attempt_at),
        }


def _is_loopback(url: str) -> bool:
    host = (URL(url).host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@attrs.define(eq=False)
class WebhookDelivery:
    """The webhook deliveries of one `EventBus`: logs per instance, running tasks, HTTP session.

    Args:
        bus: The bus whose settings and clock the deliveries follow.
    """

    bus: EventBus
    _log_ids: int = attrs.field(default=0, init=False)
    _logs: dict[str, OrderedDict[str, DeliveryLog]] = attrs.field(factory=dict, init=False)
    _tasks: set[asyncio.Task[None]] = attrs.field(factory=set, init=False)
    _session: aiohttp.ClientSession | None = attrs.field(default=None, init=False)
    _closed: bool = attrs.field(default=False, init=False)

    def start(self, instance: SimInstance, envelope: dict[str, Any]) -> None:
        """Deliver an envelope to the instance's webhook (twice when the bus says so).

        Args:
            instance: The instance (its ``webhook_url`` is the target).
            envelope: The event envelope.
        """
        bus = self.bus
        self._start(instance, envelope, duplicate=False)
        if bus.deliver_twice or (bus.duplicate_rate > 0 and random.random() < bus.duplicate_rate):
            self._start(instance, envelope, duplicate=True)

    def _start(self, instance: SimInstance, envelope: dict[str, Any], *, duplicate: bool) -> None:
        if self._closed:
            return
        self._log_ids += 1
        log = DeliveryLog(
            id=f"log_{self._log_ids:06d}{secrets.token_hex(3)}",
            instance_id=instance.id,
            event_id=envelope["id"],
            event_type=envelope["type"],
            url=instance.webhook_url,
            payload=envelope,
            created_at=self.bus.state.clock(),
            duplicate=duplicate,
        )
        logs = self._logs.setdefault(instance.id, OrderedDict())
        logs[log.id] = log
        while len(logs) > max(1, self.bus.log_retention):
            logs.popitem(last=False)
        self._spawn(self._deliver(log))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until every delivery started so far (retries included) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def logs_of(self, instance_id: str) -> list[DeliveryLog]:
        """The delivery logs of an instance, oldest first.

        Args:
            instance_id: The instance id.
        """
        return list(self._logs.get(instance_id, {}).values())

    def get_log(self, instance_id: str, log_id: str) -> DeliveryLog:
        """One delivery log, or a 404 `SimError`.

        Args:
            instance_id: The instance id.
            log_id: The log id.
        """
        logs: dict[str, DeliveryLog] = self._logs.get(instance_id, {})
        log = logs.get(log_id)
        if log is None:
            raise SimError(404, "LOG_NOT_FOUND", f"webhook log {log_id} not found")
        return log

    async def _deliver(self, log: DeliveryLog) -> None:
        bus = self.bus
        if bus.local_only and not _is_loopback(log.url):
            await self.attempt(log)  # records the refusal; retrying cannot change it
            return
        for index, delay in enumerate(bus.retry_delays or (0.0,)):
            if delay > 0:
                log.next_attempt_at = bus.state.clock() + delay
                await asyncio.sleep(delay)
            log.next_attempt_at = None
            if await self.attempt(log):
                return
            if index + 1 < len(bus.retry_delays):
                log.status = "pending"
        log.status = "failed"

    async def attempt(self, log: DeliveryLog) -> bool:
        """POST a log's payload once and record the outcome; True on a 2xx answer.

        Args:
            log: The delivery log.
        """
        bus = self.bus
        log.attempts += 1
        log.last_attempt_at = bus.state.clock()
        headers = {
            "Content-Type": "application/json",
            "X-Instance-ID": log.instance_id,
            "User-Agent": bus.user_agent,
        }
        body = json.dumps(log.payload, separators=(",", ":"))
        if bus.local_only and not _is_loopback(log.url):
            log.response_status = None
            log.response_body = None
            log.error = "delivery to a non-loopback host is disabled (EventBus.local_only)"
            log.status = "failed"
            return False
        try:
            session = self._client()
            timeout = aiohttp.ClientTimeout(total=bus.timeout)
            async with session.post(log.url, data=body, headers=headers, timeout=timeout) as resp:
                log.response_status = resp.status
                log.response_body = (await resp.text(errors="replace"))[:1000]
                success = 200 <= resp.status < 300
                log.error = None if success else f"receiver answered HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.response_status = None
            log.response_body = None
            log.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            success = False
        log.status = "success" if success else "failed"
        return success

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def aclose(self) -> None:
        """Stop deliveries and close the HTTP session."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
