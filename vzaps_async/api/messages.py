"""Sending messages and acting on them (`/instances/{id}/chat/...`).

Sends are not idempotent: a send whose answer is lost raises `OutcomeUnknownError` instead of
being retried, because a retry could deliver the message twice. Passing your own ``id`` lets you
recognise the message in events afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict, Unpack

import attrs

from vzaps_async import _validate as validate
from vzaps_async._convert import unstructure
from vzaps_async.errors import InputError
from vzaps_async.models.common import ActionResult
from vzaps_async.models.messages import (
    Button,
    ListSection,
    MediaDownload,
    MessageAction,
    PresenceState,
    SentMessage,
)

from ._base import InstanceRoute, drop_none, segment

__all__ = ["MessagesAPI", "SendOptions"]

_MEDIA_KEYS = ("url", "direct_path")


def _optional_text(value: object, field: str) -> str | None:
    return None if value is None else validate.non_empty(value, field)


def _optional_bool(value: object, field: str) -> bool | None:
    return None if value is None else validate.boolean(value, field)


class SendOptions(TypedDict, total=False):
    """The options every ``send_*`` method accepts (as keyword arguments); left out ones are
    not sent.

    Args:
        id: Your own id for the message (lets you recognise it in events).
        delay: Seconds to wait before sending (where the server supports it).
        reply_to_message_id: Quote this message.
        mentioned_ids: JIDs mentioned in the text or caption.
    """

    id: str
    delay: float
    reply_to_message_id: str
    mentioned_ids: Iterable[str]


_SEND_OPTIONS = frozenset(SendOptions.__annotations__)


def _add_options(body: dict[str, Any], kind: str, options: SendOptions) -> None:
    for name in options:
        if name not in _SEND_OPTIONS:
            # What Python itself says for an unknown keyword argument.
            raise TypeError(f"send_{kind}() got an unexpected keyword argument {name!r}")
    if (id := options.get("id")) is not None:
        body["id"] = validate.non_empty(id, "id")
    if (delay := options.get("delay")) is not None:
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise InputError("delay", f"must be a number >= 0, got {delay!r}")
        body["delay"] = delay
    if (reply_to := options.get("reply_to_message_id")) is not None:
        body["reply_to_message_id"] = validate.non_empty(reply_to, "reply_to_message_id")
    if (mentioned := options.get("mentioned_ids")) is not None:
        body["mentioned_ids"] = validate.string_list(mentioned, "mentioned_ids")


def _items(value: object, cls: type[Any], field: str) -> list[dict[str, Any]]:
    # Accept model instances or plain mappings for buttons/sections; never an empty list.
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise InputError(field, f"must be a list of {cls.__name__}, not {type(value).__name__}")
    result: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        if isinstance(item, cls):
            result.append(unstructure(item))
        elif isinstance(item, Mapping):
            result.append(dict(item))
        else:
            raise InputError(f"{field}[{i}]", f"must be a {cls.__name__} or a mapping")
    if not result:
        raise InputError(field, "must not be empty")
    return result


@attrs.define
class MessagesAPI(InstanceRoute):
    """Messages of one instance: sends, reactions, presence, read marks, downloads, edits."""

    async def _send(
        self, kind: str, phone: str, fields: Mapping[str, Any], options: SendOptions
    ) -> SentMessage:
        # Every send_* method: the target, the kind's own (already checked) fields with None
        # ones left out, then the options all sends share; posted to chat/send/{kind}.
        body: dict[str, Any] = {"phone": validate.chat_target(phone)}
        for key, value in fields.items():
            if value is not None:
                body[key] = value
        _add_options(body, kind, options)
        # ``kind`` is one of this module's literals (plain ASCII): no quoting needed.
        path = f"{self._prefix}/chat/send/{kind}"
        return await self._parsed(SentMessage, "POST", path, json=body)

    async def send_text(
        self,
        phone: str,
        text: str,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a text message (`POST …/chat/send/text`).

        Args:
            phone: Number, group id or JID to send to.
            text: The message text.
            send_options: `SendOptions`.
        """
        return await self._send(
            "text",
            phone,
            {"message": validate.non_empty(text, "text")},
            send_options,
        )

    async def send_image(
        self,
        phone: str,
        image: str,
        *,
        caption: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send an image (`POST …/chat/send/image`).

        Args:
            phone: Number, group id or JID to send to.
            image: A public URL or a ``data:<mime>;base64,…`` URL.
            caption: Caption text.
            send_options: `SendOptions`.
        """
        return await self._send(
            "image",
            phone,
            {
                "image": validate.non_empty(image, "image"),
                "caption": _optional_text(caption, "caption"),
            },
            send_options,
        )

    async def send_audio(
        self,
        phone: str,
        audio: str,
        *,
        ptt: bool | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send audio (`POST …/chat/send/audio`).

        Args:
            phone: Number, group id or JID to send to.
            audio: A public URL or a data URL.
            ptt: True sends it as a voice note.
            send_options: `SendOptions`.
        """
        return await self._send(
            "audio",
            phone,
            {
                "audio": validate.non_empty(audio, "audio"),
                "ptt": _optional_bool(ptt, "ptt"),
            },
            send_options,
        )

    async def send_document(
        self,
        phone: str,
        document: str,
        *,
        file_name: str | None = None,
        caption: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a document (`POST …/chat/send/document`).

        Args:
            phone: Number, group id or JID to send to.
            document: A public URL or a data URL.
            file_name: The file name shown to the recipient (needed in practice).
            caption: Caption text.
            send_options: `SendOptions`.
        """
        return await self._send(
            "document",
            phone,
            {
                "document": validate.non_empty(document, "document"),
                "file_name": _optional_text(file_name, "file_name"),
                "caption": _optional_text(caption, "caption"),
            },
            send_options,
        )

    async def send_video(
        self,
        phone: str,
        video: str,
        *,
        caption: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a video (`POST …/chat/send/video`).

        Args:
            phone: Number, group id or JID to send to.
            video: A public URL or a data URL.
            caption: Caption text.
            send_options: `SendOptions`.
        """
        return await self._send(
            "video",
            phone,
            {
                "video": validate.non_empty(video, "video"),
                "caption": _optional_text(caption, "caption"),
            },
            send_options,
        )

    async def send_sticker(
        self,
        phone: str,
        sticker: str,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a sticker (`POST …/chat/send/sticker`).

        Args:
            phone: Number, group id or JID to send to.
            sticker: A public URL or a data URL (WebP).
            send_options: `SendOptions`.
        """
        return await self._send(
            "sticker",
            phone,
            {"sticker": validate.non_empty(sticker, "sticker")},
            send_options,
        )

    async def send_gif(
        self,
        phone: str,
        gif: str,
        *,
        caption: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a GIF (`POST …/chat/send/gif`).

        Args:
            phone: Number, group id or JID to send to.
            gif: A public URL or a data URL.
            caption: Caption text.
            send_options: `SendOptions`.
        """
        return await self._send(
            "gif",
            phone,
            {"gif": validate.non_empty(gif, "gif"), "caption": _optional_text(caption, "caption")},
            send_options,
        )

    async def send_location(
        self,
        phone: str,
        latitude: float,
        longitude: float,
        *,
        name: str | None = None,
        address: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a location pin (`POST …/chat/send/location`).

        Args:
            phone: Number, group id or JID to send to.
            latitude: Degrees, -90 to 90.
            longitude: Degrees, -180 to 180.
            name: Name of the place.
            address: Address of the place.
            send_options: `SendOptions`.
        """
        return await self._send(
            "location",
            phone,
            {
                "latitude": validate.latitude(latitude),
                "longitude": validate.longitude(longitude),
                "name": _optional_text(name, "name"),
                "address": _optional_text(address, "address"),
            },
            send_options,
        )

    async def send_contact(
        self,
        phone: str,
        contact_name: str,
        contact_phone: str,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a contact card (`POST …/chat/send/contact`).

        Args:
            phone: Number, group id or JID to send to.
            contact_name: Name on the card.
            contact_phone: Number on the card.
            send_options: `SendOptions`.
        """
        return await self._send(
            "contact",
            phone,
            {
                "contact_name": validate.non_empty(contact_name, "contact_name"),
                "contact_phone": validate.phone(contact_phone, "contact_phone"),
            },
            send_options,
        )

    async def send_buttons(
        self,
        phone: str,
        text: str,
        buttons: Iterable[Button | Mapping[str, Any]],
        *,
        footer: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a message with reply buttons (`POST …/chat/send/buttons`).

        Args:
            phone: Number, group id or JID to send to.
            text: The message text.
            buttons: `Button` values (or ``{"id", "text"}`` mappings).
            footer: Footer text.
            send_options: `SendOptions`.
        """
        return await self._send(
            "buttons",
            phone,
            {
                "message": validate.non_empty(text, "text"),
                "buttons": _items(buttons, Button, "buttons"),
                "footer": _optional_text(footer, "footer"),
            },
            send_options,
        )

    async def send_list(
        self,
        phone: str,
        *,
        title: str,
        description: str,
        button_text: str,
        sections: Iterable[ListSection | Mapping[str, Any]],
        footer: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a list message (`POST …/chat/send/list`).

        Args:
            phone: Number, group id or JID to send to.
            title: List title.
            description: Text above the button.
            button_text: Label of the button that opens the list.
            sections: `ListSection` values (each with `ListRow` rows) or equivalent mappings.
            footer: Footer text.
            send_options: `SendOptions`.
        """
        section_list = _items(sections, ListSection, "sections")
        for i, section in enumerate(section_list):
            if not section.get("rows"):
                raise InputError(f"sections[{i}].rows", "must not be empty")
        return await self._send(
            "list",
            phone,
            {
                "title": validate.non_empty(title, "title"),
                "description": validate.non_empty(description, "description"),
                "button_text": validate.non_empty(button_text, "button_text"),
                "sections": section_list,
                "footer": _optional_text(footer, "footer"),
            },
            send_options,
        )

    async def send_link(
        self,
        phone: str,
        link_url: str,
        *,
        text: str | None = None,
        title: str | None = None,
        description: str | None = None,
        jpeg_thumbnail: str | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a link with a preview (`POST …/chat/send/link`).

        The SDKs disagree on the field names; this sends the typed SDKs' ``message``,
        ``link_url``, ``title``, ``link_description`` and ``jpeg_thumbnail``.

        Args:
            phone: Number, group id or JID to send to.
            link_url: The http(s) link.
            text: Message text around the link (the link alone when None).
            title: Preview title.
            description: Preview description.
            jpeg_thumbnail: Preview image, base64 JPEG.
            send_options: `SendOptions`.
        """
        url = validate.web_url(link_url, "link_url")
        return await self._send(
            "link",
            phone,
            {
                "message": url if text is None else validate.non_empty(text, "text"),
                "link_url": url,
                "title": _optional_text(title, "title"),
                "link_description": _optional_text(description, "description"),
                "jpeg_thumbnail": _optional_text(jpeg_thumbnail, "jpeg_thumbnail"),
            },
            send_options,
        )

    async def send_poll(
        self,
        phone: str,
        name: str,
        options: Iterable[str],
        *,
        selectable_options_count: int | None = None,
        hide_participant_names: bool | None = None,
        end_time: str | None = None,
        allow_add_option: bool | None = None,
        **send_options: Unpack[SendOptions],
    ) -> SentMessage:
        """Send a poll (`POST …/chat/send/poll`).

        Args:
            phone: Number, group id or JID to send to.
            name: The question.
            options: The answers (at least two).
            selectable_options_count: How many answers one voter may pick.
            hide_participant_names: Hide who voted for what.
            end_time: When voting closes, as the API formats it.
            allow_add_option: Let voters add answers.
            send_options: `SendOptions`.
        """
        answers = validate.string_list(options, "options")
        if len(answers) < 2:
            raise InputError("options", "a poll needs at least two options")
        count = None
        if selectable_options_count is not None:
            count = validate.integer(
                selectable_options_count, "selectable_options_count", minimum=1
            )
            if count > len(answers):
                raise InputError(
                    "selectable_options_count", "must not exceed the number of options"
                )
        return await self._send(
            "poll",
            phone,
            {
                "name": validate.non_empty(name, "name"),
                "options": answers,
                "selectable_options_count": count,
                "hide_participant_names": _optional_bool(
                    hide_participant_names, "hide_participant_names"
                ),
                "end_time": _optional_text(end_time, "end_time"),
                "allow_add_option": _optional_bool(allow_add_option, "allow_add_option"),
            },
            send_options,
        )

    async def vote_poll(
        self,
        phone: str,
        message_id: str,
        selected_options: Iterable[str],
        *,
        poll_sender: str | None = None,
        from_me: bool | None = None,
    ) -> MessageAction:
        """Vote in a poll (`POST …/chat/poll/vote`).

        The chosen answers go in ``selected_options`` (the contract's field) or, with
        ``ClientConfig(wire=WireForms(poll_vote="vote"))``, in ``vote`` (the official SDKs' types).

        Args:
            phone: The chat the poll is in.
            message_id: The poll message.
            selected_options: The chosen answers.
            poll_sender: JID of who sent the poll.
            from_me: Whether the poll was sent by this account.
        """
        body = {
            "phone": validate.chat_target(phone),
            "message_id": validate.non_empty(message_id, "message_id"),
            self._transport.config.wire.poll_vote: validate.string_list(
                selected_options, "selected_options"
            ),
            **drop_none(
                poll_sender=_optional_text(poll_sender, "poll_sender"),
                from_me=_optional_bool(from_me, "from_me"),
            ),
        }
        return await self._parsed(
            MessageAction, "POST", self._path("chat", "poll", "vote"), json=body
        )

    async def react(self, phone: str, message_id: str, reaction: str) -> MessageAction:
        """React to a message with an emoji (`POST …/chat/react`).

        Args:
            phone: The chat of the message.
            message_id: The message.
            reaction: The emoji.
        """
        body = {
            "phone": validate.chat_target(phone),
            "message_id": validate.non_empty(message_id, "message_id"),
            "reaction": validate.non_empty(reaction, "reaction"),
        }
        return await self._parsed(MessageAction, "POST", self._path("chat", "react"), json=body)

    async def remove_reaction(self, phone: str, message_id: str) -> MessageAction:
        """Remove this account's reaction (`DELETE …/chat/react` with a JSON body).

        Args:
            phone: The chat of the message.
            message_id: The message.
        """
        body = {
            "phone": validate.chat_target(phone),
            "message_id": validate.non_empty(message_id, "message_id"),
        }
        return await self._parsed(MessageAction, "DELETE", self._path("chat", "react"), json=body)

    async def presence(
        self, phone: str, state: PresenceState | str, *, media: str | None = None
    ) -> MessageAction:
        """Show typing / recording / paused in a chat (`POST …/chat/presence`).

        Args:
            phone: The chat.
            state: ``composing``, ``paused``, ``available`` or ``unavailable``.
            media: ``"audio"`` with ``composing`` shows "recording".
        """
        body = {
            "phone": validate.chat_target(phone),
            "state": validate.choice(state, "state", PresenceState).value,
        }
        if media is not None:
            if media != "audio":
                raise InputError("media", f"{media!r} is not 'audio'")
            body["media"] = media
        # Showing the same presence twice is harmless.
        return await self._parsed(
            MessageAction, "POST", self._path("chat", "presence"), json=body, idempotent=True
        )

    async def mark_read(
        self, chat: str, message_ids: Iterable[str], *, sender: str | None = None
    ) -> ActionResult:
        """Mark messages as read (`POST …/chat/markread`).

        Args:
            chat: The chat (number, group id or JID).
            message_ids: The messages to mark.
            sender: JID of the messages' sender (needed in groups).
        """
        body = {
            "id": validate.string_list(message_ids, "message_ids"),
            "chat": validate.chat_target(chat, "chat"),
            **drop_none(sender=None if sender is None else validate.chat_target(sender, "sender")),
        }
        return await self._parsed(
            ActionResult, "POST", self._path("chat", "markread"), json=body, idempotent=True
        )

    async def _download(self, kind: str, media: Mapping[str, Any]) -> MediaDownload:
        if not isinstance(media, Mapping):
            raise InputError("media", f"must be a mapping, not {type(media).__name__}")
        if not any(media.get(key) for key in _MEDIA_KEYS):
            raise InputError(
                "media",
                "needs 'url' or 'direct_path' (pass the <kind>_message node of a received message)",
            )
        return await self._parsed(
            MediaDownload,
            "POST",
            self._path("chat", f"download{kind}"),
            json=dict(media),
            idempotent=True,
        )

    async def download_image(self, media: Mapping[str, Any]) -> MediaDownload:
        """Download a received image (`POST …/chat/downloadimage`).

        Prefer ``media_url`` from the event when it is present: it needs no extra call.

        Args:
            media: The ``image_message`` node of the received message (snake_case keys:
                ``url``, ``direct_path``, ``media_key``, ``mimetype``, ``file_enc_sha256``, ...).
        """
        return await self._download("image", media)

    async def download_video(self, media: Mapping[str, Any]) -> MediaDownload:
        """Download a received video (`POST …/chat/downloadvideo`).

        Args:
            media: The ``video_message`` node of the received message.
        """
        return await self._download("video", media)

    async def download_audio(self, media: Mapping[str, Any]) -> MediaDownload:
        """Download a received audio (`POST …/chat/downloadaudio`).

        Args:
            media: The ``audio_message`` node of the received message.
        """
        return await self._download("audio", media)

    async def download_document(self, media: Mapping[str, Any]) -> MediaDownload:
        """Download a received document (`POST …/chat/downloaddocument`).

        Args:
            media: The ``document_message`` node of the received message.
        """
        return await self._download("document", media)

    async def edit(self, message_id: str, text: str, phone: str | None = None) -> MessageAction:
        """Edit a sent text message (`PATCH …/chat/messages/{message_id}`).

        Args:
            message_id: The message.
            text: The new text.
            phone: The chat of the message.
        """
        body = {
            "message": validate.non_empty(text, "text"),
            **drop_none(phone=None if phone is None else validate.chat_target(phone)),
        }
        path = self._path("chat", "messages", validate.non_empty(message_id, "message_id"))
        return await self._parsed(MessageAction, "PATCH", path, json=body, idempotent=True)

    async def delete(self, message_id: str, phone: str | None = None) -> MessageAction:
        """Delete (revoke) a sent message (`DELETE …/chat/messages/{message_id}`).

        Args:
            message_id: The message.
            phone: The chat of the message.
        """
        body = drop_none(phone=None if phone is None else validate.chat_target(phone))
        path = self._path("chat", "messages", validate.non_empty(message_id, "message_id"))
        return await self._parsed(MessageAction, "DELETE", path, json=body or None)

    async def send(self, kind: str, body: Mapping[str, Any]) -> MessageAction:
        """Call any ``POST …/chat/{kind}`` route with a body as given (an escape hatch).

        Not retried after an unknown outcome.

        Args:
            kind: The route below ``chat/``, e.g. ``"send/text"``.
            body: The JSON body, sent unchanged.
        """
        parts = [p for p in validate.non_empty(kind, "kind").strip("/").split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise InputError("kind", f"{kind!r} is not a route below chat/")
        if not isinstance(body, Mapping):
            raise InputError("body", f"must be a mapping, not {type(body).__name__}")
        path = "/".join([self._path("chat"), *(segment(p) for p in parts)])
        return await self._parsed(MessageAction, "POST", path, json=dict(body))
