"""Accounts and the JWTs ``POST /token`` issues for them (a piece of `SimState`)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import attrs

from ._http import SimError
from ._model import Account, CardState

if TYPE_CHECKING:
    from ._state import SimState

__all__ = ["Accounts"]


@attrs.define(eq=False)
class Accounts:
    """The customer accounts, looked up by client token, and their bearer tokens.

    Args:
        state: The state this piece belongs to (its clock and JWT lifetime).
    """

    state: SimState = attrs.field(repr=False)
    by_id: dict[str, Account] = attrs.field(factory=dict)
    #: JWT -> (account, expires_at)
    jwts: dict[str, tuple[Account, float]] = attrs.field(factory=dict, repr=False)
    _by_client_token: dict[str, Account] = attrs.field(factory=dict, repr=False)

    def add(
        self,
        *,
        card: CardState = "ok",
        client_token: str | None = None,
        client_secret: str | None = None,
    ) -> Account:
        """Create an account (random credentials unless given).

        Args:
            card: Default payment card state.
            client_token: Public account token.
            client_secret: Account secret.
        """
        token = client_token or "ct_" + secrets.token_hex(12)
        if token in self._by_client_token:
            raise ValueError("an account with this client_token already exists")
        account = Account(
            id="acc_" + secrets.token_hex(6),
            client_token=token,
            client_secret=client_secret or "cs_" + secrets.token_hex(20),
            card=card,
        )
        self.by_id[account.id] = account
        self._by_client_token[token] = account
        return account

    def by_client_token(self, client_token: str) -> Account | None:
        """The account owning a client token, if any.

        Args:
            client_token: Public account token.
        """
        return self._by_client_token.get(client_token)

    def issue_jwt(self, account: Account) -> tuple[str, float]:
        """Make an opaque bearer token for an account; returns ``(token, lifetime_seconds)``.

        Args:
            account: The account.
        """
        token = "sim." + secrets.token_urlsafe(32)
        lifetime = self.state.config.jwt_lifetime
        self.jwts[token] = (account, self.state.clock() + lifetime)
        return token, lifetime

    def for_jwt(self, token: str) -> Account:
        """The account of a valid JWT, or a 401 `SimError` (unknown or expired).

        Args:
            token: The bearer token.
        """
        entry = self.jwts.get(token)
        if entry is None:
            raise SimError(401, "UNAUTHORIZED", "invalid access token")
        account, expires_at = entry
        if self.state.clock() >= expires_at:
            raise SimError(401, "UNAUTHORIZED", "access token expired")
        return account

    def expire_jwts(self) -> int:
        """Expire every JWT now; returns how many were valid.

        The tokens stay known so that their use answers "expired" rather than "invalid".
        """
        now = self.state.clock()
        count = 0
        for token, (account, expires_at) in self.jwts.items():
            if expires_at > now:
                count += 1
            self.jwts[token] = (account, min(expires_at, now))
        return count
