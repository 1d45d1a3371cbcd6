"""Webhook configuration of an instance and its delivery logs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async.models.common import EventType
from vzaps_async.models.webhook import WebhookConfig, WebhookLog, WebhookLogPage, WebhookLogStatus

from ._base import InstanceRoute, parse
from ._paging import normalize_page, walk

__all__ = ["WebhookAPI"]


@attrs.define
class WebhookAPI(InstanceRoute):
    """Where one instance posts its events, and the record of those deliveries."""

    async def get(self) -> WebhookConfig:
        """The configured webhook URL and events (`GET …/webhook`)."""
        return await self._parsed(WebhookConfig, "GET", self._path("webhook"))

    async def set(
        self, url: str, events: Iterable[EventType | str] | str | None = None
    ) -> WebhookConfig:
        """Set the webhook URL and, optionally, the events (`POST …/webhook`).

        Sends the documented form ``{"webhookURL": url, "events": "A,B"}``; without ``events`` the
        subscribed events stay as they are.

        Args:
            url: The http(s) URL deliveries go to.
            events: Event names (list or comma string); None keeps the current ones.
        """
        body: dict[str, Any] = {"webhookURL": validate.web_url(url, "url")}
        if events is not None:
            body["events"] = ",".join(validate.event_names(events))
        # Setting the same configuration twice gives the same state.
        return await self._parsed(
            WebhookConfig, "POST", self._path("webhook"), json=body, idempotent=True
        )

    async def search_logs(
        self,
        status: WebhookLogStatus | str | None = None,
        *,
        page: int = 1,
        size: int = 20,
        **filters: Any,
    ) -> WebhookLogPage:
        """One page of delivery logs (`POST …/webhook/logs/search`).

        Args:
            status: Only logs in this state (e.g. ``"failed"``).
            page: Page number, 1-based.
            size: Page size.
            **filters: Further filter keys, sent as given (the API documents none besides status).
        """
        body: dict[str, Any] = dict(filters)
        if status is not None:
            body["status"] = validate.non_empty(str(status), "status")
        body["page"] = validate.integer(page, "page", minimum=1)
        body["size"] = validate.integer(size, "size", minimum=1)
        path = self._path("webhook", "logs", "search")
        payload = await self._call("POST", path, json=body, idempotent=True)
        normalized = normalize_page(payload, item_keys=("logs",), method="POST", path=path)
        return parse(normalized, WebhookLogPage, method="POST", path=path)

    async def iter_logs(
        self, status: WebhookLogStatus | str | None = None, *, page_size: int = 100, **filters: Any
    ) -> AsyncIterator[WebhookLog]:
        """Iterate over all matching delivery logs, loading pages as needed.

        Args:
            status: Only logs in this state.
            page_size: Logs per request.
            **filters: Further filter keys.
        """
        size = validate.integer(page_size, "page_size", minimum=1)

        async def fetch(page: int) -> tuple[Sequence[WebhookLog], int | None]:
            result = await self.search_logs(status, page=page, size=size, **filters)
            return result.content, result.total_pages

        async for log in walk(fetch, size=size):
            yield log

    async def get_log(self, log_id: str) -> WebhookLog:
        """One delivery log (`GET …/webhook/logs/{log_id}`).

        Args:
            log_id: The log id (``log_…``).
        """
        log_id = validate.non_empty(log_id, "log_id")
        return await self._parsed(WebhookLog, "GET", self._path("webhook", "logs", log_id))

    async def retry_log(self, log_id: str) -> dict[str, Any]:
        """Deliver a logged event again now (`POST …/webhook/logs/{log_id}/retry`).

        Returns the server's confirmation as a dict (its shape is undocumented). Not retried
        after an unknown outcome, since that could deliver twice.

        Args:
            log_id: The log id.
        """
        log_id = validate.non_empty(log_id, "log_id")
        return await self._object("POST", self._path("webhook", "logs", log_id, "retry"))
