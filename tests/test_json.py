"""The JSON functions every request, response, webhook, frame and journal record goes through."""

from __future__ import annotations

import pytest

from vzaps_async import _json


def test_dumps_writes_compact_utf8_and_string_keys() -> None:
    """Bodies are compact UTF-8, non-ASCII text unescaped, other keys written as strings."""
    assert _json.dumps({"message": "olá", 1: None}) == '{"message":"olá","1":null}'.encode()


def test_loads_refuses_what_is_not_json_with_a_value_error() -> None:
    """Text that is not JSON, NaN included, raises ValueError."""
    for text in (b"<html>", b"NaN", b'{"a": 1'):
        with pytest.raises(ValueError):
            _json.loads(text)


def test_loads_raises_recursion_error_for_deep_nesting() -> None:
    """Nesting past 1,024 levels raises RecursionError, as the standard library does."""
    with pytest.raises(RecursionError):
        _json.loads(b"[" * 2000 + b"]" * 2000)
    assert _json.loads("[[1]]") == [[1]]


def test_dumps_refuses_a_value_json_cannot_hold() -> None:
    """A value JSON cannot hold raises TypeError."""
    with pytest.raises(TypeError):
        _json.dumps({"when": object()})
