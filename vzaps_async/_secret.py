"""Secrets that cannot leak by accident.

A `Secret` wraps a credential (client secret, JWT, instance token). Its `repr` and `str` are
redacted, so a secret that ends up in an f-string, a log record, an attrs repr or an exception
message shows as ``Secret('inst…')`` with only a short, non-identifying prefix, never the value.
Code that must put the value on the wire calls `reveal()` explicitly.
"""

from __future__ import annotations

from typing import Final

import attrs

from .errors import InputError

__all__ = ["Secret", "redact", "url_repr"]

_VISIBLE: Final = 4


@attrs.frozen(repr=False, eq=True, hash=True)
class Secret:
    """A credential whose value never appears in reprs, logs or exception text.

    Args:
        value: The secret string. An empty value is refused: an empty token is always a mistake.
    """

    _value: str = attrs.field(alias="value")

    def __attrs_post_init__(self) -> None:
        if not isinstance(self._value, str):
            raise TypeError(
                f"Secret value must be a str, not {type(self._value).__name__}; "
                "pass the token text itself"
            )
        if not self._value:
            raise ValueError("Secret value is empty; pass the real token or secret")

    def reveal(self) -> str:
        """Return the secret value: to put it on the wire, or to store it where only its owner
        can read it (a journal, a secrets manager); never into logs or messages."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({redact(self._value)!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))


def redact(value: str) -> str:
    """Return a short hint of a secret: a few leading characters (or none for short ones) and ``…``.

    Args:
        value: The secret text.
    """
    if len(value) <= 3 * _VISIBLE:
        return "…"
    return value[:_VISIBLE] + "…"


def as_secret(value: object, *, field: str) -> Secret:
    """Coerce a user-supplied credential into a `Secret`; `InputError` names the field when it is
    unusable, and never shows the value.

    Args:
        value: A `Secret` or the plain string.
        field: The argument name, for the error message.
    """
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise InputError(field, f"must be a str or Secret, not {type(value).__name__}")
    if not value.strip():
        raise InputError(field, "must not be empty; pass the credential from the VZaps app")
    if not value.isprintable():
        # A pasted line break would otherwise surface as aiohttp's header error at send time.
        raise InputError(
            field, "contains a line break or control character; paste the credential alone"
        )
    return Secret(value)


def url_repr(url: str | None) -> str:
    """Repr of a webhook URL that hides its path and query: a receiver's shared secret lives there.

    Args:
        url: The URL (or None).
    """
    if not url:
        return repr(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        return repr("…")
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return repr(f"{scheme}://{host}/…")
