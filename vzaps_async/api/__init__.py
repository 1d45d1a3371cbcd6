"""The typed API surface: one class per endpoint group."""

from __future__ import annotations

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
