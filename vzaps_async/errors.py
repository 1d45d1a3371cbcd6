"""The exception tree of vzaps_async.

Every exception the SDK raises on purpose derives from `VZapsError`::

    VZapsError
    ├── InputError (also ValueError) ........ bad arguments, caught before any request
    ├── TransportError ...................... the request or its answer never made it
    │   ├── ConnectError .................... never reached the server: safe to retry anything
    │   ├── RequestTimeout .................. no answer in time (idempotent calls only)
    │   │   └── RequestNotSent .............. the time ran out before it was sent: nothing
    │   │                                     reached the server, safe to send again
    │   └── OutcomeUnknownError ............. a call that costs money or sends a message may or
    │                                         may not have been applied: reconcile before retrying
    ├── ResponseError ....................... the server answered something we cannot read
    │                                         (an HTML 502 page, a body missing required fields)
    ├── JournalError ........................ the onboarding journal cannot be used (not a
    │   │                                     database, unreadable, a bad record, disk full)
    │   └── JournalLockedError .............. another run holds the journal (one writer)
    └── APIError ............................ the server answered with an error status
        ├── BadRequestError ................. 400, 422: the server refused the input
        ├── AuthenticationError ............. 401: bad credentials or an expired JWT
        ├── PermissionDeniedError ........... 403: not the owner, or X-Client-Token mismatch
        ├── PaymentRequiredError ............ 402: no card on file, or the card was declined
        ├── NotFoundError ................... 404
        ├── ConflictError ................... 409: already subscribed, already connected, ...
        ├── RateLimitedError ................ 429, with `retry_after` in seconds
        └── ServerError ..................... 5xx

`APIError` keeps what is needed to debug a failure: HTTP status, the API's string error code, its
message, the request method and path, the request id and the decoded body. It never keeps
credentials: headers are not stored, and the path of a route never carries a token.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectError",
    "InputError",
    "JournalError",
    "JournalLockedError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestNotSent",
    "RequestTimeout",
    "ResponseError",
    "ServerError",
    "TransportError",
    "VZapsError",
    "error_for_status",
]


class VZapsError(Exception):
    """Base class of every error raised by vzaps_async."""


class InputError(VZapsError, ValueError):
    """An argument is invalid; raised before any request is sent.

    Args:
        field: The argument or field at fault.
        problem: What is wrong and how to fix it.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class TransportError(VZapsError):
    """The request or its response did not make it across the network.

    Args:
        message: What happened.
        method: HTTP method of the request.
        path: Request path (never contains credentials).
    """

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        self.method = method
        self.path = path
        where = f" ({method} {path})" if method else ""
        super().__init__(f"{message}{where}")


class ConnectError(TransportError):
    """The connection could not be made; the server never saw the request."""


class RequestTimeout(TransportError):
    """No response arrived in time."""


class RequestNotSent(RequestTimeout):
    """The time allowed for a request ran out before it was sent: the server never saw it."""


class OutcomeUnknownError(TransportError):
    """A non-idempotent call (create, subscribe, a send) may have been applied, but its response
    was lost. Retrying blindly could create, bill or send twice: look the result up first (for
    instances: list by name; for billing: read `billing_status`)."""


#: A quoted key naming a credential, then its quoted value (JSON text or a Python repr).
_CREDENTIAL = re.compile(
    r"""(?P<key>(['"])\w*(?:token|secret|jwt|password|authorization)\w*\2\s*:\s*)"""
    r"""(?P<q>['"])(?:\\.|(?!(?P=q)).)*(?:(?P=q)|$)""",  # the value may be cut short
    re.IGNORECASE | re.DOTALL,
)


def _scrub(text: str) -> str:
    """Replace the values of credential-named fields (``"token": "..."``) with ``"…"``."""
    return _CREDENTIAL.sub(lambda m: f"{m['key']}{m['q']}…{m['q']}", text)


class ResponseError(VZapsError):
    """The server answered with something that is not the documented shape.

    Args:
        message: What was wrong with the body.
        status: HTTP status of the response.
        method: HTTP method of the request.
        path: Request path.
        body: The raw body text, shortened; values of credential fields (``token``,
            ``secret``, ...) are replaced with ``…``, since a create response carries the
            instance token.
    """

    def __init__(
        self, message: str, *, status: int, method: str, path: str, body: str = ""
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.body = _scrub(body)
        super().__init__(f"{message} ({method} {path} -> HTTP {status})")


class JournalError(VZapsError):
    """The onboarding journal cannot be used (at open, or for a save during a run).

    Args:
        location: The journal's file path or database name (never a password).
        problem: What is wrong and what to do about it.
    """

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"journal {location}: {problem}")


class JournalLockedError(JournalError):
    """Another run holds the journal: one writer at a time, so this run stops before any request.

    Args:
        location: The journal's file path or database name.
        holder: Who holds it (pid, host and since when), as the journal recorded.
    """

    def __init__(self, location: str, holder: str) -> None:
        self.holder = holder
        super().__init__(
            location,
            f"held by {holder}; wait for that run to finish, or stop it (a run that died "
            "releases the journal on its own)",
        )


class LeaseLostError(JournalError):
    """A shared job's lease on an instance was lost (expired, or taken over by another worker).

    The write that found out was refused, and the worker has stopped every call for the
    instance; the worker that holds it now carries on from its journaled snapshot.

    Args:
        location: The journal's database and job (never a password).
        name: The instance name.
    """

    def __init__(self, location: str, name: str) -> None:
        self.name = name
        super().__init__(
            location,
            f"the lease on {name!r} was lost; another worker carries on with it (nothing to do)",
        )


class APIError(VZapsError):
    """The API answered with an error status.

    Args:
        status: HTTP status code.
        message: The server's human-readable message (or the reason phrase).
        code: The API's string error code (``error_code`` or a string ``code``), if any.
        method: HTTP method of the request.
        path: Request path.
        body: The decoded response body (a dict, or the text when it was not JSON).
        request_id: The ``X-Request-Id`` response header, if any.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        method: str = "",
        path: str = "",
        body: Any = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.method = method
        self.path = path
        self.body = body
        self.request_id = request_id
        label = f" [{code}]" if code else ""
        super().__init__(f"HTTP {status}{label}: {message} ({method} {path})")


class BadRequestError(APIError):
    """400 or 422: the server refused the request's content."""


class AuthenticationError(APIError):
    """401: the client credentials are wrong, or the JWT is missing or expired."""


class PermissionDeniedError(APIError):
    """403: the instance belongs to another account, or X-Client-Token does not match."""


class PaymentRequiredError(APIError):
    """402: billing failed: no default card on the account, or the card was declined."""


class NotFoundError(APIError):
    """404: the instance (or log, typebot, chat) does not exist."""


class ConflictError(APIError):
    """409: the request conflicts with the current state (e.g. already subscribed)."""


class RateLimitedError(APIError):
    """429: too many requests.

    Args:
        retry_after: Seconds to wait before retrying, from the ``Retry-After`` header (None when the
            server sent none).
        **kwargs: As for `APIError`.
    """

    def __init__(
        self, status: int, message: str, *, retry_after: float | None = None, **kwargs: Any
    ):
        self.retry_after = retry_after
        super().__init__(status, message, **kwargs)


class ServerError(APIError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitedError,
}


def error_for_status(status: int) -> type[APIError]:
    """Return the `APIError` subclass for an HTTP status.

    Args:
        status: HTTP status code (>= 400).
    """
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)
