"""What every API module shares: response parsing, path building and the instance-bound base."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import attrs
import cattrs

from vzaps_async import _validate as validate
from vzaps_async._convert import structure
from vzaps_async._secret import Secret
from vzaps_async._transport import AuthKind, ParamValue, Transport
from vzaps_async.errors import ResponseError
from vzaps_async.models.common import StatusResult

from ._paging import normalize_page

__all__ = [
    "InstanceRoute",
    "drop_none",
    "instance_path",
    "keyed_items",
    "parse",
    "parse_status",
    "segment",
]

T = TypeVar("T")

#: The transport hands back only the payload of a 2xx answer, so errors cite this status.
_OK = 200
_BODY_LIMIT = 500


def _shorten(payload: Any) -> str:
    text = repr(payload)
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "…"


def parse(payload: Any, cls: type[T], *, method: str, path: str) -> T:
    """Structure a response payload into ``cls``; a shape that does not fit is a `ResponseError`.

    Args:
        payload: The decoded payload from `Transport.request`.
        cls: The model class.
        method: HTTP method, for the error.
        path: Request path, for the error.
    """
    if payload is None and attrs.has(cls):
        # An empty 2xx answer (204) has no fields: every optional one stays None.
        payload = {}
    if type(payload) is not dict and attrs.has(cls) and not isinstance(payload, Mapping):
        raise ResponseError(
            f"expected a JSON object for {cls.__name__}, got {type(payload).__name__}",
            status=_OK,
            method=method,
            path=path,
            body=_shorten(payload),
        )
    try:
        return structure(payload, cls)
    except cattrs.BaseValidationError as exc:
        problems = "; ".join(cattrs.transform_error(exc, path=cls.__name__))
        raise ResponseError(
            f"unexpected response shape: {problems}",
            status=_OK,
            method=method,
            path=path,
            body=_shorten(payload),
        ) from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ResponseError(
            f"unexpected response shape for {cls.__name__}: {exc}",
            status=_OK,
            method=method,
            path=path,
            body=_shorten(payload),
        ) from exc


def parse_status(payload: Any, *, method: str, path: str) -> StatusResult:
    """Read a confirmation (``{"status": "ok"}``, ``{"message": ...}``); no body (204) gives an
    empty `StatusResult`.

    Args:
        payload: The decoded payload.
        method: HTTP method, for the error.
        path: Request path, for the error.
    """
    if isinstance(payload, str):
        # A bare JSON string is the message itself.
        return StatusResult(message=payload)
    return parse(payload, StatusResult, method=method, path=path)


def keyed_items(payload: Any, key: str, *, item_keys: tuple[str, ...] = ()) -> Any:
    """Items of an undocumented list answer as a list of objects.

    The answer may be a JSON array, an object holding the array under one of ``item_keys``, or
    an object keyed by the items' ``key`` (``{"5511…@s.whatsapp.net": {...}}``, the form of
    WhatsApp servers built on whatsmeow); the key is then put into each item. Anything else is
    returned as it is, for `parse` to refuse.

    Args:
        payload: The decoded payload.
        key: The attribute the map's keys fill in (e.g. ``"jid"``).
        item_keys: Keys of an object that may hold the array.
    """
    if payload is None:
        return []
    if isinstance(payload, Mapping):
        for name in item_keys:
            inner = payload.get(name)
            if isinstance(inner, list):
                return inner
            if isinstance(inner, Mapping):
                payload = inner
                break
        if all(isinstance(v, Mapping) for v in payload.values()):
            return [{key: k, **v} for k, v in payload.items()]
    return payload


def drop_none(**fields: Any) -> dict[str, Any]:
    """Build a JSON body from keyword arguments, leaving out the ones that are None.

    Args:
        **fields: Body fields.
    """
    return {k: v for k, v in fields.items() if v is not None}


# Segments made only of characters that never need quoting (ids, route names, most phone
# numbers) are returned as they are: `quote` costs a few microseconds on every request.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def segment(value: str) -> str:
    """Quote one path segment completely (a JID's ``@`` and any ``/`` included).

    Args:
        value: The raw segment.
    """
    return value if _UNRESERVED(value) else quote(value, safe="")


def instance_path(instance_id: str, *suffix: str) -> str:
    """Build ``/instances/{id}/...`` with every segment quoted.

    Args:
        instance_id: The instance id.
        *suffix: Further path segments, each quoted on its own.
    """
    return "/".join(["/instances", segment(instance_id), *(segment(s) for s in suffix)])


@attrs.define
class InstanceRoute:
    """Base of the API groups bound to one instance: sends every call with instance auth.

    Args:
        transport: The client's transport.
        instance_id: The instance the calls are for.
        token: The instance token (None uses the account JWT instead).
    """

    _transport: Transport = attrs.field(repr=False, alias="transport")
    instance_id: str
    _token: Secret | None = attrs.field(default=None, repr=False, alias="token")
    # ``/instances/{quoted id}``, quoted once here rather than on every call.
    _prefix: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._prefix = instance_path(self.instance_id)

    def _path(self, *suffix: str) -> str:
        return "/".join([self._prefix, *(segment(s) for s in suffix)])

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        idempotent: bool | None = None,
        auth: AuthKind = "instance",
    ) -> Any:
        return await self._transport.request(
            method,
            path,
            json=json,
            params=params,
            auth=auth,
            instance_token=self._token if auth == "instance" else None,
            idempotent=idempotent,
        )

    async def _parsed(
        self,
        cls: type[T],
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        idempotent: bool | None = None,
        auth: AuthKind = "instance",
    ) -> T:
        payload = await self._call(
            method, path, json=json, params=params, idempotent=idempotent, auth=auth
        )
        return parse(payload, cls, method=method, path=path)

    async def _get_page(
        self, cls: type[T], path: str, item_key: str, page: int | None, page_size: int | None
    ) -> T:
        """GET one page of a list whose items may sit under ``item_key`` (``page`` and
        ``page_size`` query parameters, left to the server when None)."""
        params = drop_none(
            page=None if page is None else validate.integer(page, "page", minimum=1),
            page_size=None
            if page_size is None
            else validate.integer(page_size, "page_size", minimum=1),
        )
        payload = await self._call("GET", path, params=params or None)
        normalized = normalize_page(payload, item_keys=(item_key,), method="GET", path=path)
        return parse(normalized, cls, method="GET", path=path)

    async def _status(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        idempotent: bool | None = None,
    ) -> StatusResult:
        payload = await self._call(method, path, json=json, params=params, idempotent=idempotent)
        return parse_status(payload, method=method, path=path)
