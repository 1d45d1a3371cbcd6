"""Wire models: frozen attrs classes structured by the one converter in `vzaps_async._convert`."""

from __future__ import annotations

from vzaps_async._convert import configure_converter, converter

from .billing import Subscription, SubscriptionMode
from .chats import Chat, ChatExpiration, ChatPage
from .chatwoot import ChatwootConfig, ChatwootImportScope, ChatwootSettings
from .common import ActionResult, EventType, StatusResult
from .groups import Group, GroupInviteLink, GroupPage, GroupParticipant, GroupPhoto
from .instances import BillingStatus, InstanceInfo, InstancePage
from .messages import (
    Button,
    ListRow,
    ListSection,
    MediaDownload,
    MessageAction,
    PresenceState,
    SentMessage,
)
from .queues import QueuedItem, QueuePage, QueueRemoval
from .session import BusinessCategory, BusinessProfile, PairCode, QRCode, SessionStatus
from .typebot import (
    TypebotConfig,
    TypebotSession,
    TypebotSessionStatus,
    TypebotSettings,
    TypebotTriggerOperator,
    TypebotTriggerType,
)
from .users import Avatar, Contact, UserCheck, UserInfo
from .webhook import WebhookConfig, WebhookLog, WebhookLogPage, WebhookLogStatus

__all__ = [
    "ActionResult",
    "Avatar",
    "BillingStatus",
    "BusinessCategory",
    "BusinessProfile",
    "Button",
    "Chat",
    "ChatExpiration",
    "ChatPage",
    "ChatwootConfig",
    "ChatwootImportScope",
    "ChatwootSettings",
    "Contact",
    "EventType",
    "Group",
    "GroupInviteLink",
    "GroupPage",
    "GroupParticipant",
    "GroupPhoto",
    "InstanceInfo",
    "InstancePage",
    "ListRow",
    "ListSection",
    "MediaDownload",
    "MessageAction",
    "PairCode",
    "PresenceState",
    "QRCode",
    "QueuePage",
    "QueueRemoval",
    "QueuedItem",
    "SentMessage",
    "SessionStatus",
    "StatusResult",
    "Subscription",
    "SubscriptionMode",
    "TypebotConfig",
    "TypebotSession",
    "TypebotSessionStatus",
    "TypebotSettings",
    "TypebotTriggerOperator",
    "TypebotTriggerType",
    "UserCheck",
    "UserInfo",
    "WebhookConfig",
    "WebhookLog",
    "WebhookLogPage",
    "WebhookLogStatus",
]

# Every model class exists now: register how each one is read and written.
configure_converter(converter)
