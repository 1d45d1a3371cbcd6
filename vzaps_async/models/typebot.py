"""TypeBot integration models."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from vzaps_async._convert import EXTRA

__all__ = [
    "TypebotConfig",
    "TypebotSession",
    "TypebotSessionStatus",
    "TypebotSettings",
    "TypebotTriggerOperator",
    "TypebotTriggerType",
]


class TypebotTriggerType(enum.StrEnum):
    """What starts a TypeBot session; ``none`` means only starting it through the API."""

    ALL = "all"
    KEYWORD = "keyword"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    REGEX = "regex"
    ADVANCED = "advanced"
    NONE = "none"


class TypebotTriggerOperator(enum.StrEnum):
    """How ``trigger_value`` is compared for the ``advanced`` trigger type."""

    EQUALS = "equals"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    REGEX = "regex"


class TypebotSessionStatus(enum.StrEnum):
    """State of a TypeBot session with one contact."""

    OPENED = "opened"
    PAUSED = "paused"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class TypebotSettings:
    """The writable fields of a TypeBot configuration (create or partial update).

    For `TypebotAPI.create`, ``enabled``, ``description``, ``typebot_url``, ``public_id``,
    ``trigger_type``, ``priority`` and ``expire_in_minutes`` are required, and ``trigger_value`` too
    unless ``trigger_type`` is ``all`` or ``none``. Fields left None are not sent.

    Args:
        enabled: Whether the bot is evaluated on incoming messages.
        description: A label for the configuration.
        typebot_url: TypeBot server URL, e.g. ``https://typebot.io``.
        public_id: The flow's public id.
        trigger_type: What starts a session.
        trigger_operator: Comparison for the ``advanced`` trigger type.
        trigger_value: The keyword / text / pattern to match.
        priority: Higher priorities are evaluated first.
        expire_in_minutes: Idle minutes before a session expires (0 = never).
        keyword_finish: A keyword that closes the session.
        default_delay_ms: Delay between bot messages.
        unknown_message: Reply when the bot does not understand.
        transcribe_audio: Transcribe voice notes and treat them as text.
        listen_from_me: Also react to messages sent by the account itself.
        stop_bot_from_me: Pause the bot when the account itself replies.
        keep_open: Keep the session open when the flow ends.
        debounce_ms: Wait this long to merge consecutive messages.
        ignore_groups: Do not run in group chats.
    """

    enabled: bool | None = None
    description: str | None = None
    typebot_url: str | None = None
    public_id: str | None = None
    trigger_type: TypebotTriggerType | str | None = None
    trigger_operator: TypebotTriggerOperator | str | None = None
    trigger_value: str | None = None
    priority: int | None = None
    expire_in_minutes: int | None = None
    keyword_finish: str | None = None
    default_delay_ms: int | None = None
    unknown_message: str | None = None
    transcribe_audio: bool | None = None
    listen_from_me: bool | None = None
    stop_bot_from_me: bool | None = None
    keep_open: bool | None = None
    debounce_ms: int | None = None
    ignore_groups: bool | None = None


@attrs.frozen(kw_only=True)
class TypebotConfig(TypebotSettings):
    """A TypeBot configuration as the server returns it: its `TypebotSettings` fields (read as
    the server sends them; unknown enum values stay raw strings), its id and its times.

    Args:
        typebot_id: Id of the configuration (wire ``typebot_id`` or ``id``).
        created_at: Creation time.
        updated_at: Last update time.
    """

    typebot_id: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class TypebotSession:
    """A TypeBot session with one contact. The fields besides ``status`` are undocumented and read
    when present; starting a session may return only ``{"status": "ok"}``.

    Args:
        id: Session id (a UUID; wire ``id`` or ``session_id``).
        status: `TypebotSessionStatus`, or the raw string (``"ok"`` after a start).
        remote_jid: The contact's JID.
        typebot_id: The configuration that runs the session.
        public_id: The flow's public id.
        push_name: The contact's display name.
        created_at: When the session started.
        updated_at: Last activity.
        extra: Fields of the answer this model does not name.
    """

    id: str | None = None
    status: TypebotSessionStatus | str | None = None
    remote_jid: str | None = None
    typebot_id: str | None = None
    public_id: str | None = None
    push_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(default=EXTRA, repr=False)
