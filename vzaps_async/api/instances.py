"""Account-level instance management: create, list, get, update, restart, delete (account JWT).

`create` costs money and has no idempotency key: after an `OutcomeUnknownError` look the instance
up with `InstancesAPI.find_by_name` before creating it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any, Literal

import attrs

from vzaps_async import _validate as validate
from vzaps_async._transport import Transport
from vzaps_async.errors import InputError
from vzaps_async.models.billing import Subscription, SubscriptionMode
from vzaps_async.models.common import ActionResult, EventType, StatusResult
from vzaps_async.models.instances import InstanceInfo, InstancePage

from . import billing
from ._base import instance_path, parse, parse_status
from ._paging import normalize_page, walk

__all__ = ["InstancesAPI"]

_MAX_PAGE_SIZE = 1000


def _page_size(value: object, field: str) -> int:
    size = validate.integer(value, field, minimum=1)
    if size > _MAX_PAGE_SIZE:
        raise InputError(field, f"must be at most {_MAX_PAGE_SIZE}, got {size}")
    return size


@attrs.define
class InstancesAPI:
    """The account's instances and their billing; every call uses the account JWT.

    Args:
        transport: The client's transport.
    """

    _transport: Transport = attrs.field(repr=False, alias="transport")

    async def _send(
        self, cls: type[Any], method: str, path: str, body: Any, *, idempotent: bool
    ) -> Any:
        payload = await self._transport.request(
            method, path, json=body, auth="jwt", idempotent=idempotent
        )
        return parse(payload, cls, method=method, path=path)

    async def _put_new(
        self,
        path: str,
        name: str,
        *,
        webhook: str | None,
        events: Iterable[EventType | str] | str | None,
        reject_calls: bool | None,
        auto_read_messages: bool | None,
        labels: Mapping[str, Any] | None,
    ) -> InstanceInfo:
        # create and provision: same body, and neither is replayed after an unknown outcome.
        body = {"name": validate.instance_name(name)}
        body.update(
            validate.instance_settings(
                webhook=webhook,
                events=events,
                reject_calls=reject_calls,
                auto_read_messages=auto_read_messages,
                labels=labels,
            )
        )
        info: InstanceInfo = await self._send(InstanceInfo, "PUT", path, body, idempotent=False)
        return info

    async def create(
        self,
        name: str,
        *,
        webhook: str | None = None,
        events: Iterable[EventType | str] | str | None = None,
        reject_calls: bool | None = None,
        auto_read_messages: bool | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> InstanceInfo:
        """Create an instance (`PUT /instances/create`). Store ``result.token`` at once: the
        token may not be readable later. Never retried after an unknown outcome.

        Args:
            name: Instance name, 3-255 characters.
            webhook: Webhook URL (http or https).
            events: Event names to subscribe (list or comma string).
            reject_calls: Reject incoming calls.
            auto_read_messages: Mark incoming messages read automatically.
            labels: Free-form labels.
        """
        return await self._put_new(
            "/instances/create",
            name,
            webhook=webhook,
            events=events,
            reject_calls=reject_calls,
            auto_read_messages=auto_read_messages,
            labels=labels,
        )

    async def provision(
        self,
        name: str,
        *,
        webhook: str | None = None,
        events: Iterable[EventType | str] | str | None = None,
        reject_calls: bool | None = None,
        auto_read_messages: bool | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> InstanceInfo:
        """Provision an instance (`PUT /instances/provision`, same body as `create`).

        The route's semantics are undocumented (possibly create-or-return-by-name), so it is
        treated like `create`: never retried after an unknown outcome.

        Args:
            name: Instance name, 3-255 characters.
            webhook: Webhook URL.
            events: Event names to subscribe.
            reject_calls: Reject incoming calls.
            auto_read_messages: Mark incoming messages read automatically.
            labels: Free-form labels.
        """
        return await self._put_new(
            "/instances/provision",
            name,
            webhook=webhook,
            events=events,
            reject_calls=reject_calls,
            auto_read_messages=auto_read_messages,
            labels=labels,
        )

    async def list(
        self,
        *,
        page: int = 1,
        size: int = 20,
        query: str | None = None,
        filter: Mapping[str, Any] | None = None,
        sort: str | None = None,
        sort_desc: bool | None = None,
    ) -> InstancePage:
        """One page of the account's instances (`POST /instances/list`).

        Args:
            page: Page number, 1-based.
            size: Page size.
            query: Free-text search (sent as ``filter.query``).
            filter: Further filter keys, sent as given.
            sort: Sort field, e.g. ``"createdAt"``.
            sort_desc: Sort descending (sent as ``sortDesc``, the documented spelling, or as
                ``WireForms.list_sort_desc`` says).
        """
        body: dict[str, Any] = {
            "page": validate.integer(page, "page", minimum=1),
            "size": _page_size(size, "size"),
        }
        if filter is not None and not isinstance(filter, Mapping):
            raise InputError("filter", f"must be a mapping, not {type(filter).__name__}")
        filters = dict(filter or {})
        if query is not None:
            filters["query"] = validate.non_empty(query, "query")
        body["filter"] = filters
        if sort is not None:
            body["sort"] = validate.non_empty(sort, "sort")
        if sort_desc is not None:
            body[self._transport.config.wire.list_sort_desc] = validate.boolean(
                sort_desc, "sort_desc"
            )
        return await self._page("/instances/list", body)

    async def _page(self, path: str, body: Mapping[str, Any]) -> InstancePage:
        payload = await self._transport.request(
            "POST", path, json=dict(body), auth="jwt", idempotent=True
        )
        page = normalize_page(payload, item_keys=("instances",), method="POST", path=path)
        if isinstance(payload, Mapping) and isinstance(payload.get("summary"), dict):
            page["summary"] = payload["summary"]
        return parse(page, InstancePage, method="POST", path=path)

    async def iter(
        self,
        *,
        query: str | None = None,
        page_size: int = 100,
        filter: Mapping[str, Any] | None = None,
        sort: str | None = None,
        sort_desc: bool | None = None,
    ) -> AsyncIterator[InstanceInfo]:
        """Iterate over all the account's instances, loading pages as needed.

        Args:
            query: Free-text search.
            page_size: Instances per request.
            filter: Further filter keys.
            sort: Sort field.
            sort_desc: Sort descending.
        """
        size = _page_size(page_size, "page_size")

        def fetch(page: int) -> Awaitable[InstancePage]:
            return self.list(
                page=page, size=size, query=query, filter=filter, sort=sort, sort_desc=sort_desc
            )

        async for info in walk(fetch, size=size):
            yield info

    async def find_by_name(self, name: str) -> tuple[InstanceInfo, ...]:
        """All instances whose name is exactly ``name`` (searched with ``filter.query``).

        This is how a create whose outcome is unknown is reconciled before creating again.

        Args:
            name: The exact instance name.
        """
        name = validate.non_empty(name, "name")
        return tuple([info async for info in self.iter(query=name) if info.name == name])

    async def search(
        self, filter: Mapping[str, Any], *, page: int | None = None, size: int | None = None
    ) -> InstancePage:
        """Search instances with a free-form filter (`POST /instances/search`).

        Args:
            filter: The filter object, sent as the body.
            page: Page number (added to the body when given).
            size: Page size (added to the body when given).
        """
        if not isinstance(filter, Mapping):
            raise InputError("filter", f"must be a mapping, not {type(filter).__name__}")
        body = dict(filter)
        if page is not None:
            body["page"] = validate.integer(page, "page", minimum=1)
        if size is not None:
            body["size"] = _page_size(size, "size")
        return await self._page("/instances/search", body)

    async def get(self, instance_id: str) -> InstanceInfo:
        """One instance's summary (`POST /instances/get`, or ``GET /instances/{id}`` with
        ``WireForms(instance_get="GET")``).

        Args:
            instance_id: The instance.
        """
        instance_id = validate.instance_id(instance_id)
        if self._transport.config.wire.instance_get == "GET":
            path = instance_path(instance_id)
            payload = await self._transport.request("GET", path, auth="jwt")
            return parse(payload, InstanceInfo, method="GET", path=path)
        info: InstanceInfo = await self._send(
            InstanceInfo, "POST", "/instances/get", {"id": instance_id}, idempotent=True
        )
        return info

    async def update(
        self,
        instance_id: str,
        *,
        name: str | None = None,
        webhook: str | None = None,
        events: Iterable[EventType | str] | str | None = None,
        reject_calls: bool | None = None,
        auto_read_messages: bool | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> InstanceInfo:
        """Change some settings of an instance (`PATCH /instances/{id}`); returns the summary.

        Args:
            instance_id: The instance.
            name: New name, 3-255 characters.
            webhook: New webhook URL.
            events: New event names.
            reject_calls: Reject incoming calls.
            auto_read_messages: Mark incoming messages read automatically.
            labels: New labels.
        """
        path = instance_path(validate.instance_id(instance_id))
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = validate.instance_name(name)
        body.update(
            validate.instance_settings(
                webhook=webhook,
                events=events,
                reject_calls=reject_calls,
                auto_read_messages=auto_read_messages,
                labels=labels,
            )
        )
        if not body:
            raise InputError("update", "pass at least one field to change")
        # Setting the same values twice gives the same state, so a lost answer may be replayed.
        info: InstanceInfo = await self._send(InstanceInfo, "PATCH", path, body, idempotent=True)
        return info

    async def restart(self, instance_id: str) -> ActionResult:
        """Restart the instance's runtime (`POST /instances/{id}/restart`); does not unpair.

        Args:
            instance_id: The instance.
        """
        path = instance_path(validate.instance_id(instance_id), "restart")
        result: ActionResult = await self._send(ActionResult, "POST", path, None, idempotent=True)
        return result

    async def delete(self, instance_id: str) -> StatusResult:
        """Delete the instance (`DELETE /instances/{id}`).

        The API documents ``204 No Content``; the result is then empty (every field None).

        Args:
            instance_id: The instance.
        """
        path = instance_path(validate.instance_id(instance_id))
        payload = await self._transport.request("DELETE", path, auth="jwt")
        return parse_status(payload, method="DELETE", path=path)

    async def subscribe(
        self, instance_id: str, *, billing_type: SubscriptionMode | str | None = None
    ) -> Subscription:
        """Start the paid subscription (`POST /instances/{id}/subscribe`); costs money, never
        retried after an unknown outcome.

        Args:
            instance_id: The instance.
            billing_type: ``direct`` or ``checkout``; None lets the server choose.
        """
        return await billing.subscribe(self._transport, instance_id, billing_type=billing_type)

    async def cancel(
        self, instance_id: str, *, method: Literal["PUT", "DELETE"] = "PUT"
    ) -> StatusResult:
        """Cancel the instance (`/instances/{id}/cancel`); ``message`` says when it takes effect.

        Args:
            instance_id: The instance.
            method: ``"PUT"`` or ``"DELETE"``.
        """
        return await billing.cancel(self._transport, instance_id, method=method)

    async def resume(self, instance_id: str) -> StatusResult:
        """Undo a scheduled cancellation (`POST /instances/{id}/resume-subscription`).

        Args:
            instance_id: The instance.
        """
        return await billing.resume(self._transport, instance_id)
