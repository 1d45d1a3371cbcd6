"""What every API module shares: response parsing, path building and the instance-bound base."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import attrs
import cattrs

from vzaps_async._convert import structure
from vzaps_async._secret import Secret
from vzaps_async._transport import AuthKind, ParamValue, Transport
from vzaps_async.errors import ResponseError

__all__ = ["InstanceRoute", "as_object", "drop_none", "instance_path", "parse", "segment"]

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
    if attrs.has(cls) and not isinstance(payload, Mapping):
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


def as_object(payload: Any, *, method: str, path: str) -> dict[str, Any]:
    """Return an undocumented object payload as a dict (an empty body gives ``{}``).

    Args:
        payload: The decoded payload.
        method: HTTP method, for the error.
        path: Request path, for the error.
    """
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return payload
    raise ResponseError(
        f"expected a JSON object, got {type(payload).__name__}",
        status=_OK,
        method=method,
        path=path,
        body=_shorten(payload),
    )


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

    async def _object(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, ParamValue] | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        payload = await self._call(method, path, json=json, params=params, idempotent=idempotent)
        return as_object(payload, method=method, path=path)
