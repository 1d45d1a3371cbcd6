"""The instance registry: create, find, rename and delete instances (a piece of `SimState`).

Every lookup a route makes brings the instance up to date with the clock first
(`SimState.refresh`), so time-dependent state is computed lazily when an instance is looked at.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from ._http import SimError
from ._model import Account, SimInstance, random_upper

if TYPE_CHECKING:
    from ._state import SimState

__all__ = ["Registry"]


@attrs.define(eq=False)
class Registry:
    """Every instance on the server, by id, by instance token and by (account, name).

    Args:
        state: The state this piece belongs to (clock, trial length, counters, refresh).
    """

    state: SimState = attrs.field(repr=False)
    instances: dict[str, SimInstance] = attrs.field(factory=dict)
    _by_token: dict[str, SimInstance] = attrs.field(factory=dict, repr=False)
    _by_name: dict[tuple[str, str], list[str]] = attrs.field(factory=dict, repr=False)

    def create(
        self,
        account: Account,
        name: str,
        *,
        webhook_url: str = "",
        events_subscribe: list[str] | None = None,
        reject_calls: bool = False,
        auto_read_messages: bool = False,
        labels: dict[str, Any] | None = None,
    ) -> SimInstance:
        """Create an instance (TRIALING, never connected).

        Args:
            account: Owner.
            name: Instance name (validated by the route).
            webhook_url: Webhook URL.
            events_subscribe: Subscribed event names.
            reject_calls: Reject incoming calls.
            auto_read_messages: Mark incoming messages read.
            labels: Free labels.
        """
        now = self.state.clock()
        instance_id = "VZ" + random_upper(26)
        while instance_id in self.instances:
            instance_id = "VZ" + random_upper(26)
        instance = SimInstance(
            id=instance_id,
            name=name,
            token="inst_" + secrets.token_urlsafe(18),
            account=account,
            created_at=now,
            updated_at=now,
            webhook_url=webhook_url,
            events_subscribe=list(events_subscribe or []),
            reject_calls=reject_calls,
            auto_read_messages=auto_read_messages,
            labels=dict(labels or {}),
            current_period_end=now + self.state.config.trial_seconds,
        )
        self.instances[instance.id] = instance
        self._by_token[instance.token] = instance
        self._by_name.setdefault((account.id, name), []).append(instance.id)
        self.state.counters.instance_created(name)
        return instance

    def rename(self, instance: SimInstance, name: str) -> None:
        """Change an instance's name, keeping the name index right.

        Args:
            instance: The instance.
            name: New name.
        """
        self._unname(instance)
        instance.name = name
        self._by_name.setdefault((instance.account.id, name), []).append(instance.id)

    def delete(self, instance: SimInstance) -> None:
        """Remove an instance and its indexes.

        Args:
            instance: The instance.
        """
        instance.cancel_scan_timer()
        self.instances.pop(instance.id, None)
        self._by_token.pop(instance.token, None)
        self._unname(instance)

    def _unname(self, instance: SimInstance) -> None:
        ids = self._by_name.get((instance.account.id, instance.name), [])
        if instance.id in ids:
            ids.remove(instance.id)

    def named(self, account: Account, name: str) -> list[SimInstance]:
        """The account's instances with exactly this name, oldest first.

        Args:
            account: Owner.
            name: Instance name.
        """
        ids = self._by_name.get((account.id, name), [])
        return [self.instances[i] for i in ids if i in self.instances]

    def by_token(self, token: str) -> SimInstance | None:
        """The instance owning an instance token, if any.

        Args:
            token: Instance token.
        """
        return self._by_token.get(token)

    def get(self, instance_id: str) -> SimInstance:
        """An instance, brought up to date with the clock, or a 404 `SimError`.

        Args:
            instance_id: Instance id.
        """
        instance = self.instances.get(instance_id)
        if instance is None:
            raise SimError(404, "INSTANCE_NOT_FOUND", "instance not found")
        self.state.refresh(instance)
        return instance

    def of_account(self, account: Account) -> Iterator[SimInstance]:
        """The account's instances, refreshed, in creation order.

        Args:
            account: Owner.
        """
        for instance in list(self.instances.values()):
            if instance.account is account:
                self.state.refresh(instance)
                yield instance

    def holds(self, instance: SimInstance) -> bool:
        """Whether this very instance is still registered (a loop timer may outlive a delete).

        Args:
            instance: The instance.
        """
        return self.instances.get(instance.id) is instance
