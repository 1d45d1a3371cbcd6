"""`Instance`: a handle bound to one instance, so callers stop passing ids and tokens around."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from . import _validate as validate
from ._secret import Secret
from ._transport import Transport

if TYPE_CHECKING:
    from .api.billing import BillingAPI
    from .api.chats import ChatsAPI
    from .api.chatwoot import ChatwootAPI
    from .api.contacts import ContactsAPI
    from .api.groups import GroupsAPI
    from .api.instances import InstancesAPI
    from .api.messages import MessagesAPI
    from .api.queues import QueuesAPI
    from .api.session import SessionAPI
    from .api.typebot import TypebotAPI
    from .api.users import UsersAPI
    from .api.webhook import WebhookAPI
    from .models.common import ActionResult, EventType, StatusResult
    from .models.instances import InstanceInfo
    from .realtime import RealtimeStream

__all__ = ["Instance"]

G = TypeVar("G")


class _Group(Generic[G]):
    """A route group of `Instance`, built on first access and then kept.

    Its class is imported on the first access in the process: a handle's groups and their
    models cost nothing until a call needs them.

    Args:
        path: ``"module:Class"`` of the group, the module relative to `vzaps_async.api`.
        with_token: Whether the group is bound to the handle's token.
    """

    __slots__ = ("_factory", "_name", "_path", "_with_token")

    def __init__(self, path: str, *, with_token: bool = True) -> None:
        self._path = path
        self._factory: Any = None
        self._with_token = with_token
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _Group[G]: ...
    @overload
    def __get__(self, obj: Instance, objtype: type | None = None) -> G: ...
    def __get__(self, obj: Instance | None, objtype: type | None = None) -> G | _Group[G]:
        if obj is None:
            return self
        group: G | None = obj._groups.get(self._name)
        if group is None:
            factory = self._factory
            if factory is None:
                module, name = self._path.split(":")
                factory = self._factory = getattr(
                    importlib.import_module(f"vzaps_async.api.{module}"), name
                )
            if self._with_token:
                group = factory(obj._transport, obj.id, obj.token)
            else:
                group = factory(transport=obj._transport, instance_id=obj.id)
            obj._groups[self._name] = group
        return group


class Instance:
    """One instance's API, authenticated with its token (or the account JWT when there is none).

    Get one from ``client.instance(instance_id, token)``. The groups of routes are attributes:
    `session`, `billing`, `webhook`, `messages`, `users`, `contacts`, `groups`, `queues`,
    `typebot`, `chatwoot`, `chats`. The token never appears in the repr.

    Args:
        transport: The client's transport.
        instance_id: The instance id (``VZ…``).
        token: The instance token; None authenticates instance routes with the account JWT.
    """

    __slots__ = ("_groups", "_transport", "id", "token")

    # The route groups are built on first use: a web backend that makes a handle per request and
    # sends one message should not pay for eleven groups it never touches.
    session: _Group[SessionAPI] = _Group("session:SessionAPI")
    webhook: _Group[WebhookAPI] = _Group("webhook:WebhookAPI")
    messages: _Group[MessagesAPI] = _Group("messages:MessagesAPI")
    users: _Group[UsersAPI] = _Group("users:UsersAPI")
    contacts: _Group[ContactsAPI] = _Group("contacts:ContactsAPI")
    groups: _Group[GroupsAPI] = _Group("groups:GroupsAPI")
    queues: _Group[QueuesAPI] = _Group("queues:QueuesAPI")
    typebot: _Group[TypebotAPI] = _Group("typebot:TypebotAPI")
    chatwoot: _Group[ChatwootAPI] = _Group("chatwoot:ChatwootAPI")
    chats: _Group[ChatsAPI] = _Group("chats:ChatsAPI")
    # Billing routes accept only the account JWT, so no token is bound.
    billing: _Group[BillingAPI] = _Group("billing:BillingAPI", with_token=False)

    def __init__(
        self, transport: Transport, instance_id: str, token: str | Secret | None = None
    ) -> None:
        self._transport = transport
        self.id: str = validate.instance_id(instance_id)
        self.token: Secret | None = None if token is None else validate.secret(token, "token")
        self._groups: dict[str, Any] = {}

    def __repr__(self) -> str:
        token = "set" if self.token is not None else "none"
        return f"Instance(id={self.id!r}, token={token})"

    def _account(self) -> InstancesAPI:
        # The account-level routes about this instance, loaded on first use like the groups.
        from .api.instances import InstancesAPI

        return InstancesAPI(self._transport)

    async def info(self) -> InstanceInfo:
        """This instance's summary (`POST /instances/get`, account JWT)."""
        return await self._account().get(self.id)

    async def update(
        self,
        *,
        name: str | None = None,
        webhook: str | None = None,
        events: Iterable[EventType | str] | str | None = None,
        reject_calls: bool | None = None,
        auto_read_messages: bool | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> InstanceInfo:
        """Change some settings (`PATCH /instances/{id}`, account JWT).

        Args:
            name: New name, 3-255 characters.
            webhook: New webhook URL.
            events: New event names.
            reject_calls: Reject incoming calls.
            auto_read_messages: Mark incoming messages read automatically.
            labels: New labels.
        """
        return await self._account().update(
            self.id,
            name=name,
            webhook=webhook,
            events=events,
            reject_calls=reject_calls,
            auto_read_messages=auto_read_messages,
            labels=labels,
        )

    async def restart(self) -> ActionResult:
        """Restart the instance's runtime (`POST /instances/{id}/restart`, account JWT)."""
        return await self._account().restart(self.id)

    async def delete(self) -> StatusResult:
        """Delete the instance (`DELETE /instances/{id}`, account JWT; empty on 204)."""
        return await self._account().delete(self.id)

    def events(
        self,
        types: Iterable[EventType | str] | str | None = None,
        *,
        last_event_id: str | None = None,
        **options: Any,
    ) -> RealtimeStream:
        """This instance's realtime events over the WebSocket, acked after each is handled.

        Use it as ``async with inst.events(["Message"]) as stream: async for event in stream``.
        The upgrade carries what every official SDK sends: the account JWT, X-Client-Token and
        (when the handle has it) X-Instance-Token, in headers; in the query string too only with
        ``ClientConfig(wire=WireForms(realtime_query_credentials=True))``.

        Args:
            types: Event types to receive (None: the instance's subscribed events).
            last_event_id: Resume after this event id.
            **options: More `RealtimeStream` settings (heartbeat, stale_after, backoff, ...).
        """
        from .realtime import RealtimeStream  # loaded on first use: most clients never stream

        transport, token = self._transport, self.token

        async def headers() -> dict[str, str]:
            # The JWT as well as the tokens: a gateway that requires it would refuse the socket.
            sent = await transport.auth_headers("jwt")
            if token is not None:
                sent = {**sent, "X-Instance-Token": token.reveal()}
            return sent

        return RealtimeStream(
            transport.session(),
            transport.config.realtime_url,
            self.id,
            headers,
            types=None if types is None else validate.event_names(types),
            last_event_id=last_event_id,
            query_credentials=transport.config.wire.realtime_query_credentials,
            **options,
        )
