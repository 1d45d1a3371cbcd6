"""JSON on the wire and in the journals: orjson, raising what the standard library raises.

Every request body, response, webhook, realtime frame and journal record goes through `dumps` and
`loads` (the CLI's indented output for people stays with the standard library). orjson encodes
and decodes in a fraction of the standard library's time, and those calls sit on every request
and every journal write. Where the two differ:

- `loads` raises `ValueError` for what is not JSON (NaN and Infinity included, which the standard
  library accepts) and `RecursionError` past 1,024 levels of nesting, as the standard library
  does past its recursion limit, so callers tell the two apart the same way;
- an integer beyond 64 bits decodes as a float (the API sends none: its ids are strings);
- `dumps` returns UTF-8 bytes, compact, non-ASCII text unescaped; keys that are not strings are
  written as strings (as the standard library does); NaN and infinities are written as ``null``.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "loads"]

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON.

    Args:
        value: Dicts, lists, strings, numbers, booleans and None (nested).

    Raises:
        TypeError: A value JSON cannot hold (the message names its type).
    """
    return orjson.dumps(value, option=_OPTIONS)


def loads(data: bytes | str) -> Any:
    """Decode one JSON document.

    Args:
        data: The document, UTF-8 bytes or text.

    Raises:
        ValueError: It is not JSON.
        RecursionError: It is nested more than 1,024 levels deep.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit"):
            raise RecursionError("JSON nested more than 1,024 levels deep") from None
        raise
