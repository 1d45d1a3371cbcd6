"""Wire models: frozen attrs classes structured by the one converter in `vzaps_async._convert`.

Each module loads on first use of one of its names, so a process builds only the model classes it
uses (``from vzaps_async.models import SentMessage`` loads `messages` alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vzaps_async._lazy import lazy_names

if TYPE_CHECKING:
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

# Where each name lives; keep in step with the TYPE_CHECKING imports above (what mypy reads).
_MODULES = {
    "ActionResult": "common",
    "Avatar": "users",
    "BillingStatus": "instances",
    "BusinessCategory": "session",
    "BusinessProfile": "session",
    "Button": "messages",
    "Chat": "chats",
    "ChatExpiration": "chats",
    "ChatPage": "chats",
    "ChatwootConfig": "chatwoot",
    "ChatwootImportScope": "chatwoot",
    "ChatwootSettings": "chatwoot",
    "Contact": "users",
    "EventType": "common",
    "Group": "groups",
    "GroupInviteLink": "groups",
    "GroupPage": "groups",
    "GroupParticipant": "groups",
    "GroupPhoto": "groups",
    "InstanceInfo": "instances",
    "InstancePage": "instances",
    "ListRow": "messages",
    "ListSection": "messages",
    "MediaDownload": "messages",
    "MessageAction": "messages",
    "PairCode": "session",
    "PresenceState": "messages",
    "QRCode": "session",
    "QueuePage": "queues",
    "QueueRemoval": "queues",
    "QueuedItem": "queues",
    "SentMessage": "messages",
    "SessionStatus": "session",
    "StatusResult": "common",
    "Subscription": "billing",
    "SubscriptionMode": "billing",
    "TypebotConfig": "typebot",
    "TypebotSession": "typebot",
    "TypebotSessionStatus": "typebot",
    "TypebotSettings": "typebot",
    "TypebotTriggerOperator": "typebot",
    "TypebotTriggerType": "typebot",
    "UserCheck": "users",
    "UserInfo": "users",
    "WebhookConfig": "webhook",
    "WebhookLog": "webhook",
    "WebhookLogPage": "webhook",
    "WebhookLogStatus": "webhook",
}

__getattr__, __dir__ = lazy_names(globals(), _MODULES)


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
