"""Billing: subscribe, cancel and resume an instance's subscription (account JWT only).

`subscribe` costs money and is never retried after an unknown outcome: on
`OutcomeUnknownError` read the instance's ``billing_status`` before calling it again.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from vzaps_async import _validate as validate
from vzaps_async._transport import Transport
from vzaps_async.errors import InputError
from vzaps_async.models.billing import Subscription, SubscriptionMode
from vzaps_async.models.common import StatusResult

from ._base import instance_path, parse, parse_status

__all__ = ["BillingAPI", "cancel", "resume", "subscribe"]


async def subscribe(
    transport: Transport, instance_id: str, *, billing_type: SubscriptionMode | str | None = None
) -> Subscription:
    """Start the paid subscription of an instance (`POST /instances/{id}/subscribe`).

    Args:
        transport: The client's transport.
        instance_id: The instance.
        billing_type: Ask for ``direct`` (charge the default card) or ``checkout`` (hosted page);
            None lets the server choose (normally ``direct``).
    """
    instance_id = validate.instance_id(instance_id)
    body: dict[str, Any] = {}
    if billing_type is not None:
        body["billing_type"] = validate.choice(billing_type, "billing_type", SubscriptionMode).value
    path = instance_path(instance_id, "subscribe")
    payload = await transport.request("POST", path, json=body, auth="jwt", idempotent=False)
    return parse(payload, Subscription, method="POST", path=path)


async def cancel(
    transport: Transport, instance_id: str, *, method: Literal["PUT", "DELETE"] = "PUT"
) -> StatusResult:
    """Cancel an instance (`PUT` or `DELETE /instances/{id}/cancel`).

    The answer's ``message`` says whether the cancellation is immediate or scheduled for the
    period end.

    Args:
        transport: The client's transport.
        instance_id: The instance.
        method: ``"PUT"`` (what the SDKs use) or ``"DELETE"``; the API documents both.
    """
    instance_id = validate.instance_id(instance_id)
    if method not in ("PUT", "DELETE"):
        raise InputError("method", f"{method!r} is not 'PUT' or 'DELETE'")
    path = instance_path(instance_id, "cancel")
    # Cancelling twice leaves the same state, so a lost answer may be replayed.
    payload = await transport.request(method, path, auth="jwt", idempotent=True)
    return parse_status(payload, method=method, path=path)


async def resume(transport: Transport, instance_id: str) -> StatusResult:
    """Undo a scheduled end-of-period cancellation (`POST /instances/{id}/resume-subscription`).

    Args:
        transport: The client's transport.
        instance_id: The instance.
    """
    instance_id = validate.instance_id(instance_id)
    path = instance_path(instance_id, "resume-subscription")
    payload = await transport.request("POST", path, auth="jwt", idempotent=True)
    return parse_status(payload, method="POST", path=path)


@attrs.define
class BillingAPI:
    """Billing of one instance; always authenticated with the account JWT.

    Args:
        transport: The client's transport.
        instance_id: The instance.
    """

    _transport: Transport = attrs.field(repr=False, alias="transport")
    instance_id: str

    async def subscribe(
        self, *, billing_type: SubscriptionMode | str | None = None
    ) -> Subscription:
        """Start the paid subscription; see `subscribe`. Never retried after an unknown outcome.

        Args:
            billing_type: ``direct`` or ``checkout``; None lets the server choose.
        """
        return await subscribe(self._transport, self.instance_id, billing_type=billing_type)

    async def cancel(self, *, method: Literal["PUT", "DELETE"] = "PUT") -> StatusResult:
        """Cancel the instance; the answer's ``message`` says when it takes effect.

        Args:
            method: ``"PUT"`` or ``"DELETE"``.
        """
        return await cancel(self._transport, self.instance_id, method=method)

    async def resume(self) -> StatusResult:
        """Undo a scheduled end-of-period cancellation."""
        return await resume(self._transport, self.instance_id)
