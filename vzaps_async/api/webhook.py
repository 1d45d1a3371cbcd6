"""Webhook configuration of an instance and its delivery logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import Any

import attrs

from vzaps_async import _validate as validate
from vzaps_async.errors import BadRequestError, ResponseError
from vzaps_async.models.common import EventType
from vzaps_async.models.webhook import WebhookConfig, WebhookLog, WebhookLogPage, WebhookLogStatus

from ._base import InstanceRoute, parse
from ._paging import normalize_page, walk

__all__ = ["WebhookAPI"]

logger = logging.getLogger("vzaps_async")

#: Where the transport remembers the webhook-set form that this server was seen to read.
_LEARNED_KEY = "webhook_set"
_OTHER_FORM = {"webhookURL": "webhook_url", "webhook_url": "webhookURL"}


def _stored(config: WebhookConfig, url: str, names: tuple[str, ...] | None) -> bool:
    """Whether a read-back shows what was set (the events only when some were sent, and not
    ``All``, which a server may list expanded)."""
    if config.webhook != url:
        return False
    return names is None or "All" in names or set(config.events) == set(names)


@attrs.define
class WebhookAPI(InstanceRoute):
    """Where one instance posts its events, and the record of those deliveries."""

    async def get(self) -> WebhookConfig:
        """The configured webhook URL and events (`GET …/webhook`)."""
        return await self._parsed(WebhookConfig, "GET", self._path("webhook"))

    async def set(
        self, url: str, events: Iterable[EventType | str] | str | None = None
    ) -> WebhookConfig:
        """Set the webhook URL and, optionally, the events (`POST …/webhook`), and check it.

        The docs and the official SDKs disagree on the body (docs/contract-choices.md), and a
        server that reads the other form answers 200 and stores nothing. So the first set of a
        client reads the webhook back (`get`); when the URL (or the events) did not stick, or the
        server refused the body with 400/422, the other form is sent once, a warning is logged,
        and the form that worked is used without checking for the rest of the client's life.
        The first form tried is `WireForms.webhook_set`. Without ``events`` the subscribed
        events stay as they are.

        Args:
            url: The http(s) URL deliveries go to.
            events: Event names (list or comma string); None keeps the current ones.
        """
        url = validate.web_url(url, "url")
        names = None if events is None else tuple(validate.event_names(events))
        learned = self._transport.learned
        known = learned.get(_LEARNED_KEY)
        if known is not None:
            return await self._send_form(known, url, names)
        first = self._transport.config.wire.webhook_set
        second = _OTHER_FORM[first]
        try:
            answer = await self._send_form(first, url, names)
        except BadRequestError as exc:
            logger.warning(
                "webhook set: the server refused the %s form (%s); trying the %s form",
                first,
                exc.status,
                second,
            )
        else:
            if _stored(await self.get(), url, names):
                learned[_LEARNED_KEY] = first
                return answer
            logger.warning(
                "webhook set: the server answered but did not store the webhook sent in the %s "
                "form; trying the %s form",
                first,
                second,
            )
        answer = await self._send_form(second, url, names)
        if not _stored(await self.get(), url, names):
            raise ResponseError(
                f"the server accepted the webhook in both the {first} and the {second} form but "
                "stored it in neither; read it with webhook.get() and report the server's form",
                status=200,
                method="POST",
                path=self._path("webhook"),
            )
        learned[_LEARNED_KEY] = second
        logger.warning(
            "webhook set: this server reads the %s form; this client uses it from now on "
            "(set ClientConfig(wire=WireForms(webhook_set=%r)) to start with it)",
            second,
            second,
        )
        return answer

    async def _send_form(self, form: str, url: str, names: tuple[str, ...] | None) -> WebhookConfig:
        body: dict[str, Any]
        if form == "webhook_url":
            body = {"webhook_url": url}
            if names is not None:
                body["events"] = list(names)
        else:
            body = {"webhookURL": url}
            if names is not None:
                body["events"] = ",".join(names)
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

        def fetch(page: int) -> Awaitable[WebhookLogPage]:
            return self.search_logs(status, page=page, size=size, **filters)

        async for log in walk(fetch, size=size):
            yield log

    async def get_log(self, log_id: str) -> WebhookLog:
        """One delivery log (`GET …/webhook/logs/{log_id}`).

        Args:
            log_id: The log id (``log_…``).
        """
        log_id = validate.non_empty(log_id, "log_id")
        return await self._parsed(WebhookLog, "GET", self._path("webhook", "logs", log_id))

    async def retry_log(self, log_id: str) -> WebhookLog:
        """Deliver a logged event again now (`POST …/webhook/logs/{log_id}/retry`).

        Returns the log as it is after the new attempt (the confirmation's shape is undocumented:
        fields the model does not name are kept in `WebhookLog.extra`). Not retried after an
        unknown outcome, since that could deliver twice.

        Args:
            log_id: The log id.
        """
        log_id = validate.non_empty(log_id, "log_id")
        path = self._path("webhook", "logs", log_id, "retry")
        # An empty answer (204) still confirms the retry: an empty WebhookLog.
        return parse(await self._call("POST", path), WebhookLog, method="POST", path=path)
