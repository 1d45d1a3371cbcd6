"""The typed API surface: one class per endpoint group.

Each module loads on first use of one of its names (`Client` and `Instance` build their groups on
first access), so a process imports only the groups it calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vzaps_async._lazy import lazy_names

if TYPE_CHECKING:
    from .billing import BillingAPI
    from .chats import ChatsAPI
    from .chatwoot import ChatwootAPI
    from .contacts import ContactsAPI
    from .groups import GroupsAPI
    from .instances import InstancesAPI
    from .messages import MessagesAPI, SendOptions
    from .queues import QueuesAPI
    from .session import SessionAPI
    from .typebot import TypebotAPI
    from .users import UsersAPI
    from .webhook import WebhookAPI

# Where each name lives; keep in step with the TYPE_CHECKING imports above (what mypy reads).
_MODULES = {
    "BillingAPI": "billing",
    "ChatsAPI": "chats",
    "ChatwootAPI": "chatwoot",
    "ContactsAPI": "contacts",
    "GroupsAPI": "groups",
    "InstancesAPI": "instances",
    "MessagesAPI": "messages",
    "QueuesAPI": "queues",
    "SendOptions": "messages",
    "SessionAPI": "session",
    "TypebotAPI": "typebot",
    "UsersAPI": "users",
    "WebhookAPI": "webhook",
}

__getattr__, __dir__ = lazy_names(globals(), _MODULES)


__all__ = [
    "BillingAPI",
    "ChatsAPI",
    "ChatwootAPI",
    "ContactsAPI",
    "GroupsAPI",
    "InstancesAPI",
    "MessagesAPI",
    "QueuesAPI",
    "SendOptions",
    "SessionAPI",
    "TypebotAPI",
    "UsersAPI",
    "WebhookAPI",
]
