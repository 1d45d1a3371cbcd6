"""Wire models: frozen attrs classes structured by the one converter in `vzaps_async._convert`."""

from __future__ import annotations

from .billing import Subscription, SubscriptionMode
from .chats import Chat, ChatExpiration, ChatPage
from .chatwoot import ChatwootConfig, ChatwootImportScope, ChatwootSettings
from .common import ActionResult, EventType, RawJSON, RawPage
from .instances import BillingStatus, InstanceInfo, InstancePage
from .messages import Button, ListRow, ListSection, MediaDownload, PresenceState, SentMessage
from .session import BusinessCategory, BusinessProfile, PairCode, QRCode, SessionStatus
from .typebot import (
    TypebotConfig,
    TypebotSession,
    TypebotSessionStatus,
    TypebotSettings,
    TypebotTriggerOperator,
    TypebotTriggerType,
)
from .users import Avatar, UserCheck
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
    "EventType",
    "InstanceInfo",
    "InstancePage",
    "ListRow",
    "ListSection",
    "MediaDownload",
    "PairCode",
    "PresenceState",
    "QRCode",
    "RawJSON",
    "RawPage",
    "SentMessage",
    "SessionStatus",
    "Subscription",
    "SubscriptionMode",
    "TypebotConfig",
    "TypebotSession",
    "TypebotSessionStatus",
    "TypebotSettings",
    "TypebotTriggerOperator",
    "TypebotTriggerType",
    "UserCheck",
    "WebhookConfig",
    "WebhookLog",
    "WebhookLogPage",
    "WebhookLogStatus",
]
