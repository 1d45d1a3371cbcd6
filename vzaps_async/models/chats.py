"""Chat metadata models."""

from __future__ import annotations

import enum

import attrs

__all__ = ["Chat", "ChatExpiration", "ChatPage"]


class ChatExpiration(enum.StrEnum):
    """Disappearing-message timers for `ChatsAPI.set_expiration`."""

    HOURS_24 = "24_HOURS"
    DAYS_7 = "7_DAYS"
    DAYS_90 = "90_DAYS"
    OFF = "OFF"


@attrs.frozen
class Chat:
    """Metadata of one chat (`GET /instances/{id}/chats/{phone}`).

    Args:
        phone: The contact's number (or the group id).
        jid: The chat JID.
        name: Chat name.
        last_message_user_name: Sender name of the last message.
        last_message_user_phone: Sender number of the last message.
        community_name: Community the group belongs to.
        community_jid: JID of that community.
        archived: Whether the chat is archived.
        pinned: Whether the chat is pinned.
        unread: Unread count, as the string the API sends.
        messages_unread: Unread count, as a number.
        marked_as_unread: Whether the chat was marked unread by hand.
        is_muted: ``"1"`` when muted, ``"0"`` otherwise (see `muted`).
        is_marked_spam: Whether the chat was reported as spam.
        is_group: Whether the chat is a group.
        is_group_announcement: Whether the group is announcement-only.
        last_message_time: Time of the last message, as the API formats it.
        last_message_timestamp_ms: Time of the last message, Unix milliseconds.
        mute_end_time: When muting ends, Unix time as the API sends it.
    """

    phone: str | None = None
    jid: str | None = None
    name: str | None = None
    last_message_user_name: str | None = None
    last_message_user_phone: str | None = None
    community_name: str | None = None
    community_jid: str | None = None
    archived: bool | None = None
    pinned: bool | None = None
    unread: str | None = None
    messages_unread: int | None = None
    marked_as_unread: bool | None = None
    is_muted: str | None = None
    is_marked_spam: bool | None = None
    is_group: bool | None = None
    is_group_announcement: bool | None = None
    last_message_time: str | None = None
    last_message_timestamp_ms: int | None = None
    mute_end_time: int | None = None

    @property
    def muted(self) -> bool:
        """True when the chat is muted (``is_muted`` is ``"1"`` or ``"true"``)."""
        return (self.is_muted or "").strip().lower() in {"1", "true"}


@attrs.frozen
class ChatPage:
    """One page of `GET /instances/{id}/chats`.

    Args:
        content: The chats on this page.
        page: Page number, 1-based, when reported.
        size: Page size, when reported.
        total: Number of chats over all pages, when reported.
        total_pages: Number of pages, when reported.
    """

    content: tuple[Chat, ...] = ()
    page: int | None = None
    size: int | None = None
    total: int | None = None
    total_pages: int | None = None
