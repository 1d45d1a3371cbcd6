"""The documented form of every request, and the check the strict simulator makes against it.

One table, `ROUTES`, says for each route (``"METHOD /template"``, as `route_key` names it) which
JSON body fields and query parameters the contract documents, their types, which are required,
and which other spellings the lenient simulator also reads (``aliases``: what an official SDK
or an old docs page sends instead). The middleware calls `check` before the handler:

- strict (``SimulatorConfig.strict``): the first deviation is answered with 400
  ``VALIDATION_ERROR`` naming the field and the documented form;
- lenient (the default): the handler runs as before (it reads the aliases itself) and every
  deviation is recorded in the `ContractLog`, served at ``GET /__sim/contract``.

A deviation is a field the route does not document (an alias included), a value of the wrong
JSON type, a missing required field, a query parameter the route does not take, or a body sent
without ``Content-Type: application/json``. Free-form bodies (instance search, the media node
of a download, webhook log filters) are marked ``open``: only their listed fields are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
from aiohttp import web

__all__ = [
    "ACK_ROUTE",
    "CONTRACT_KEY",
    "ROUTES",
    "TYPEBOT_REQUIRED",
    "ContractLog",
    "Deviation",
    "RouteContract",
    "ack_deviation",
    "check",
    "webhook_contract",
]

#: How a realtime ack frame is named in the `ContractLog` (it is not an HTTP request).
ACK_ROUTE = "WS /events/ws ack"

#: JSON types a field may have: a name per type, ``|`` joins alternatives.
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "num": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "obj": lambda v: isinstance(v, dict),
    "strs": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "objs": lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
}
_TYPE_NAMES = {
    "str": "a string",
    "bool": "a boolean",
    "int": "an integer",
    "num": "a number",
    "obj": "an object",
    "strs": "an array of strings",
    "objs": "an array of objects",
}


def _json_type(value: Any) -> str:
    for name in ("bool", "int", "num", "str", "obj"):
        if _CHECKS[name](value):
            return _TYPE_NAMES[name]
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else type(value).__name__


@attrs.frozen
class Field:
    """One documented field: its JSON type(s) and whether it is required.

    Args:
        types: Type names joined by ``|`` (``"str"``, ``"strs|str"``, ...).
        required: The route refuses a body without it.
    """

    types: str
    required: bool = False
    # The type checks, looked up once: `check` runs on every request the simulator serves.
    _checks: tuple[Callable[[Any], bool], ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        checks = tuple(_CHECKS[name] for name in self.types.split("|"))
        object.__setattr__(self, "_checks", checks)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has one of the documented types.

        Args:
            value: The decoded JSON value.
        """
        return any(accept(value) for accept in self._checks)

    def describe(self) -> str:
        """The documented type(s), in words."""
        return " or ".join(_TYPE_NAMES[name] for name in self.types.split("|"))


def _fields(spec: str) -> dict[str, Field]:
    # "phone!:str message!:str caption:str": a trailing ! marks a required field.
    out: dict[str, Field] = {}
    for item in spec.split():
        name, types = item.split(":")
        out[name.rstrip("!")] = Field(types, required=name.endswith("!"))
    return out


@attrs.frozen
class RouteContract:
    """The documented request of one route.

    Args:
        body: Documented JSON body fields (empty: the route takes no body).
        query: Documented query parameters (their values are strings; only names are checked).
        aliases: Other field names the lenient simulator reads -> the documented name.
        open: Fields beyond ``body`` are allowed (a free-form body).
        ignore_unknown: Fields beyond ``body`` are dropped silently, never refused or recorded
            (a server that reads one form only; see ``SimulatorConfig.webhook_reads``).
    """

    body: Mapping[str, Field] = attrs.field(factory=dict)
    query: Mapping[str, Field] = attrs.field(factory=dict)
    aliases: Mapping[str, str] = attrs.field(factory=dict)
    open: bool = False
    ignore_unknown: bool = False


@attrs.frozen
class Deviation:
    """One way a request differed from the documented form.

    Args:
        route: ``"METHOD /template"``.
        field: The field, query parameter or header concerned.
        sent: What the request had (a field name, a type, ``"missing"``).
        documented: What the contract documents instead.
    """

    route: str
    field: str
    sent: str
    documented: str

    def message(self) -> str:
        """A 400 message that starts with the field and says the documented form."""
        return (
            f"{self.field}: sent {self.sent}, but {self.route} documents {self.documented} "
            "(strict simulator)"
        )


_SEND = "id:str delay:num mentioned_ids:strs reply_to_message_id:str "
_PAGING = _fields("page:int page_size:int")
_TYPEBOT = (
    "enabled:bool description:str typebot_url:str public_id:str trigger_type:str "
    "trigger_operator:str trigger_value:str priority:int expire_in_minutes:int "
    "keyword_finish:str default_delay_ms:int unknown_message:str transcribe_audio:bool "
    "listen_from_me:bool stop_bot_from_me:bool keep_open:bool debounce_ms:int ignore_groups:bool"
)
#: The fields a TypeBot create must carry (§2.11).
TYPEBOT_REQUIRED = (
    "enabled",
    "description",
    "typebot_url",
    "public_id",
    "trigger_type",
    "priority",
    "expire_in_minutes",
)
_INSTANCE = (
    "webhook:str events_subscribe:strs|str reject_calls:bool auto_read_messages:bool labels:obj"
)
_CHATWOOT = (
    "enabled!:bool url!:str account_id!:str token!:str name_inbox:str sign_msg:bool "
    "sign_delimiter:str number:str reopen_conversation:bool conversation_pending:bool "
    "import_contacts:bool import_messages:bool days_limit_import_messages:int auto_create:bool "
    "organization:str logo:str ignore_jids:strs ignore_groups:bool"
)
_NONE = RouteContract()
_I = "/instances/{id}"


def _route(spec: str = "", **options: Any) -> RouteContract:
    return RouteContract(body=_fields(spec), **options)


def _media(kind: str, extra: str = "") -> RouteContract:
    return _route(f"phone!:str {kind}!:str {extra} {_SEND}", aliases={f"{kind}_url": kind})


def _typebot_create() -> RouteContract:
    fields = _fields(_TYPEBOT)
    return RouteContract(
        body={k: attrs.evolve(f, required=k in TYPEBOT_REQUIRED) for k, f in fields.items()}
    )


#: The documented request of every route the simulator serves (control routes excluded).
ROUTES: dict[str, RouteContract] = {
    "POST /token": _route("client_token!:str client_secret!:str"),
    "GET /health": _NONE,
    "PUT /instances/create": _route(f"name!:str {_INSTANCE}"),
    "PUT /instances/provision": _route(f"name!:str {_INSTANCE}"),
    "POST /instances/list": _route(
        "page:int size:int filter:obj sort:str sortDesc:bool", aliases={"sort_desc": "sortDesc"}
    ),
    "POST /instances/search": _route(
        "page:int size:int filter:obj sort:str sortDesc:bool", open=True
    ),
    "POST /instances/get": _route("id!:str"),
    f"GET {_I}": _NONE,
    f"PATCH {_I}": _route(f"name:str {_INSTANCE}"),
    f"DELETE {_I}": _NONE,
    f"POST {_I}/restart": _NONE,
    f"POST {_I}/subscribe": _route(
        "billing_type:str", aliases={"billingType": "billing_type", "billing": "billing_type"}
    ),
    f"POST {_I}/resume-subscription": _NONE,
    f"PUT {_I}/cancel": _NONE,
    f"DELETE {_I}/cancel": _NONE,
    f"GET {_I}/session/qr": _NONE,
    f"GET {_I}/session/paircode/{{phone}}": _NONE,
    f"GET {_I}/session/status": _NONE,
    f"POST {_I}/session/disconnect": _NONE,
    f"GET {_I}/webhook": _NONE,
    # POST …/webhook: see `webhook_contract`.
    f"POST {_I}/webhook/logs/search": _route("status:str page:int size:int filter:obj", open=True),
    f"GET {_I}/webhook/logs/{{log_id}}": _NONE,
    f"POST {_I}/webhook/logs/{{log_id}}/retry": _NONE,
    f"POST {_I}/chat/send/text": _route(f"phone!:str message!:str {_SEND}"),
    f"POST {_I}/chat/send/image": _media("image", "caption:str"),
    f"POST {_I}/chat/send/audio": _media("audio", "ptt:bool"),
    f"POST {_I}/chat/send/document": _media("document", "file_name:str caption:str"),
    f"POST {_I}/chat/send/video": _media("video", "caption:str"),
    f"POST {_I}/chat/send/sticker": _media("sticker"),
    f"POST {_I}/chat/send/gif": _media("gif", "caption:str"),
    f"POST {_I}/chat/send/location": _route(
        f"phone!:str latitude!:num longitude!:num name:str address:str {_SEND}"
    ),
    f"POST {_I}/chat/send/contact": _route(
        f"phone!:str contact_name:str contact_phone:str vcard:str {_SEND}"
    ),
    f"POST {_I}/chat/send/buttons": _route(
        f"phone!:str message!:str buttons!:objs footer:str {_SEND}"
    ),
    f"POST {_I}/chat/send/list": _route(
        "phone!:str title!:str description!:str button_text!:str sections!:objs footer:str " + _SEND
    ),
    f"POST {_I}/chat/send/link": _route(
        "phone!:str message:str link_url:str title:str link_description:str "
        f"jpeg_thumbnail:str {_SEND}",
        aliases={"link": "link_url", "description": "link_description"},
    ),
    f"POST {_I}/chat/send/poll": _route(
        "phone!:str name!:str options!:strs selectable_options_count:int "
        f"hide_participant_names:bool end_time:str allow_add_option:bool {_SEND}"
    ),
    f"POST {_I}/chat/poll/vote": _route(
        "phone!:str message_id!:str selected_options!:strs poll_sender:str from_me:bool",
        aliases={"vote": "selected_options"},
    ),
    f"POST {_I}/chat/react": _route("phone!:str message_id!:str reaction!:str"),
    f"DELETE {_I}/chat/react": _route("phone!:str message_id!:str"),
    f"POST {_I}/chat/presence": _route("phone!:str state!:str media:str"),
    f"POST {_I}/chat/markread": _route("id!:strs chat!:str sender:str"),
    f"PATCH {_I}/chat/messages/{{message_id}}": _route("message!:str phone:str"),
    f"DELETE {_I}/chat/messages/{{message_id}}": _route("phone:str"),
    **{
        f"POST {_I}/chat/download{kind}": _route(
            "url:str direct_path:str media_key:str mimetype:str file_enc_sha256:str "
            "file_sha256:str file_length:int",
            open=True,
        )
        for kind in ("image", "video", "audio", "document")
    },
    f"POST {_I}/user/check": _route("phone!:strs"),
    f"POST {_I}/user/info": _route("phone!:strs"),
    f"POST {_I}/user/avatar": _route("phone!:str preview!:bool"),
    f"GET {_I}/user/contacts": _NONE,
    f"GET {_I}/contact/list": _NONE,
    f"POST {_I}/contact/add": _route("phone!:str first_name:str full_name:str"),
    f"GET {_I}/group/list": RouteContract(query=_PAGING),
    f"GET {_I}/group/info": RouteContract(query=_fields("group_id!:str")),
    f"GET {_I}/group/invitelink": RouteContract(query=_fields("group_id!:str reset:bool")),
    f"POST {_I}/group/photo": _route("group_id!:str image!:str"),
    f"POST {_I}/group/name": _route("group_id!:str name!:str"),
    f"POST {_I}/group/description": _route("group_id!:str description!:str"),
    f"POST {_I}/group/settings": _route(
        "group_id!:str admin_only_message:bool admin_only_settings:bool delay_message:int"
    ),
    f"POST {_I}/group/create": _route(
        "group_name!:str group_description:str group_image:str participants!:strs",
        aliases={"name": "group_name"},
    ),
    f"POST {_I}/group/add-admin": _route("group_id!:str participants!:strs"),
    f"POST {_I}/group/remove-admin": _route("group_id!:str participants!:strs"),
    f"GET {_I}/queue/messages": RouteContract(query=_PAGING),
    f"DELETE {_I}/queue/messages": _NONE,
    f"DELETE {_I}/queue/messages/{{message_id}}": _NONE,
    f"GET {_I}/queue/operations": RouteContract(query=_PAGING),
    f"DELETE {_I}/queue/operations": _NONE,
    f"DELETE {_I}/queue/operations/{{operation_id}}": _NONE,
    f"GET {_I}/typebots": _NONE,
    f"POST {_I}/typebots": _typebot_create(),
    f"PATCH {_I}/typebots/{{typebot_id}}": _route(_TYPEBOT),
    f"DELETE {_I}/typebots/{{typebot_id}}": _NONE,
    f"GET {_I}/typebots/sessions": _NONE,
    f"POST {_I}/typebots/sessions/start": _route(
        "public_id!:str phone!:str message!:str push_name:str"
    ),
    f"POST {_I}/typebots/{{typebot_id}}/sessions/start": _route(
        "phone!:str message!:str push_name:str"
    ),
    f"POST {_I}/typebots/sessions/{{session}}/pause": _NONE,
    f"POST {_I}/typebots/sessions/{{session}}/close": _NONE,
    f"GET {_I}/chatwoot": _NONE,
    f"POST {_I}/chatwoot": _route(_CHATWOOT),
    f"DELETE {_I}/chatwoot": _NONE,
    f"POST {_I}/chatwoot/import/{{what}}": _NONE,
    f"GET {_I}/chats": RouteContract(query=_PAGING),
    f"GET {_I}/chats/{{phone}}": _NONE,
    f"DELETE {_I}/chats/{{phone}}": _route("delete_media:bool"),
    **{
        f"POST {_I}/chats/{{phone}}/{action}": _NONE
        for action in ("archive", "unarchive", "unmute", "pin", "unpin", "read", "unread")
    },
    f"POST {_I}/chats/{{phone}}/mute": _route("duration_seconds:int"),
    f"POST {_I}/chats/{{phone}}/clear": _route("delete_media:bool"),
    f"PUT {_I}/chats/{{phone}}/expiration": _route("expiration!:str"),
    "GET /events/ws": RouteContract(
        query=_fields(
            "instance_id!:str events:str last_event_id:str access_token:str client_token:str "
            "instance_token:str"
        )
    ),
}

WebhookReads = Literal["any", "webhookURL", "webhook_url"]


def webhook_contract(reads: WebhookReads) -> RouteContract:
    """The documented request of ``POST /instances/{id}/webhook`` for a server that reads
    ``reads``.

    ``"any"`` is the documented form (``webhookURL`` + a comma string, the API reference); the
    official SDKs' ``webhook_url`` + array and the Python example's ``url`` + ``enabled`` are
    aliases. A server configured to read one form only ignores every other field silently, like
    a server that decodes into a fixed struct.

    Args:
        reads: ``SimulatorConfig.webhook_reads``.
    """
    if reads == "webhook_url":
        return _route("webhook_url:str events:strs", ignore_unknown=True)
    if reads == "webhookURL":
        return _route("webhookURL:str events:str", ignore_unknown=True)
    return _route(
        "webhookURL:str events:str",
        aliases={"webhook_url": "webhookURL", "webhookUrl": "webhookURL", "url": "webhookURL"},
    )


def check(
    key: str,
    contract: RouteContract,
    body: Any,
    query: Mapping[str, str],
    content_type: str | None,
) -> list[Deviation]:
    """Every way one request differs from its route's documented form.

    Args:
        key: ``"METHOD /template"``.
        contract: The route's contract.
        body: The decoded JSON body (None when there is none; a non-object is left to the
            handler's own error).
        query: The query parameters.
        content_type: The request's Content-Type (None when absent).
    """
    found: list[Deviation] = []
    for name in query:
        if name not in contract.query:
            found.append(Deviation(key, name, "a query parameter", "no such parameter"))
    for name, spec in contract.query.items():
        if spec.required and name not in query:
            found.append(Deviation(key, name, "missing", "a required query parameter"))
    if body is None:
        for name, spec in contract.body.items():
            if spec.required:
                found.append(
                    Deviation(key, name, "missing", f"a required field ({spec.describe()})")
                )
        return found
    if content_type != "application/json":
        found.append(
            Deviation(key, "Content-Type", repr(content_type), "application/json for a JSON body")
        )
    if not isinstance(body, dict):
        return found
    for name, value in body.items():
        documented_field = contract.body.get(name)
        if documented_field is None:
            documented = contract.aliases.get(name)
            if documented is not None:
                found.append(Deviation(key, name, "this name", f"the field {documented}"))
            elif not (contract.open or contract.ignore_unknown):
                fields = ", ".join(contract.body) or "no body fields"
                found.append(Deviation(key, name, "an unknown field", f"only {fields}"))
        elif value is not None and not documented_field.accepts(value):
            found.append(Deviation(key, name, _json_type(value), documented_field.describe()))
    for name, spec in contract.body.items():
        if (
            spec.required
            and body.get(name) is None
            and not any(body.get(a) is not None for a, d in contract.aliases.items() if d == name)
        ):
            found.append(Deviation(key, name, "missing", f"a required field ({spec.describe()})"))
    return found


def ack_deviation(frame: Mapping[str, Any]) -> Deviation | None:
    """How an ack frame differs from ``{"type": "ack", "event_id": ...}`` (the reference SDK's
    form; Java and .NET send ``id``, PHP ``eventId``), or None.

    Args:
        frame: The decoded ack frame.
    """
    if isinstance(frame.get("event_id"), str):
        return None
    sent = next((key for key in ("id", "eventId") if isinstance(frame.get(key), str)), "none")
    return Deviation(ACK_ROUTE, sent, "the event id in this key", "event_id")


@attrs.define
class ContractLog:
    """What the lenient simulator tolerated: each distinct deviation once, with a count.

    Args:
        limit: Distinct deviations kept at most (later new ones are counted in ``dropped``).
    """

    limit: int = 1000
    seen: dict[Deviation, int] = attrs.field(factory=dict)
    dropped: int = 0

    def record(self, deviations: list[Deviation]) -> None:
        """Count deviations.

        Args:
            deviations: From `check`.
        """
        for deviation in deviations:
            if deviation in self.seen:
                self.seen[deviation] += 1
            elif len(self.seen) < self.limit:
                self.seen[deviation] = 1
            else:
                self.dropped += 1

    def to_wire(self, *, strict: bool) -> dict[str, Any]:
        """The ``GET /__sim/contract`` body.

        Args:
            strict: Whether the simulator refuses deviations (then the list stays empty).
        """
        return {
            "strict": strict,
            "deviations": [
                {**attrs.asdict(deviation), "count": count}
                for deviation, count in self.seen.items()
            ],
            "dropped": self.dropped,
        }


#: Where the app keeps the deviations the lenient simulator tolerated.
CONTRACT_KEY: web.AppKey[ContractLog] = web.AppKey("vzaps_sim_contract", ContractLog)
