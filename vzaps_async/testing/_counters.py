"""Request and business counters of the simulator (``sim.counters``, ``GET /__sim/counters``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

__all__ = ["Counters"]


@attrs.define
class Counters:
    """What the simulator has seen and done, for assertions in tests and benchmarks.

    ``requests`` is keyed by ``"METHOD /route/template"`` (e.g. ``"PUT /instances/create"``);
    ``faults`` by fault kind (``latency``, ``error_5xx``, ``rate_limited``, ``drop``,
    ``commit_then_fail``, ``throttled``); ``misbehaviour`` by what a simulated phone did
    (``drops``, ``logouts``, ``zombies``) or was done to it (``restarts``), then instance id.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    instances_created: Counter[str] = attrs.field(factory=Counter)
    subscriptions: Counter[str] = attrs.field(factory=Counter)
    pairings: Counter[str] = attrs.field(factory=Counter)
    faults: Counter[str] = attrs.field(factory=Counter)
    misbehaviour: dict[str, Counter[str]] = attrs.field(
        factory=lambda: {kind: Counter() for kind in ("drops", "logouts", "zombies", "restarts")}
    )

    def request(self, route: str) -> None:
        """Count one request.

        Args:
            route: ``"METHOD /template"``.
        """
        self.requests[route] += 1

    def instance_created(self, name: str) -> None:
        """Count one created instance.

        Args:
            name: Its name.
        """
        self.instances_created[name] += 1

    def subscribed(self, instance_id: str) -> None:
        """Count one successful subscription.

        Args:
            instance_id: The instance.
        """
        self.subscriptions[instance_id] += 1

    def paired(self, instance_id: str) -> None:
        """Count one completed pairing.

        Args:
            instance_id: The instance.
        """
        self.pairings[instance_id] += 1

    def misbehaved(self, kind: str, instance_id: str) -> None:
        """Count one drop, logout, zombie or restart of an instance.

        Args:
            kind: ``drops``, ``logouts``, ``zombies`` or ``restarts``.
            instance_id: The instance.
        """
        self.misbehaviour[kind][instance_id] += 1

    def fault(self, kind: str) -> None:
        """Count one injected fault.

        Args:
            kind: Fault kind.
        """
        self.faults[kind] += 1

    @property
    def totals(self) -> dict[str, int]:
        """Sums of every counter."""
        return {
            "requests": self.requests.total(),
            "instances_created": self.instances_created.total(),
            "subscriptions": self.subscriptions.total(),
            "pairings": self.pairings.total(),
            "faults": self.faults.total(),
            **{kind: counter.total() for kind, counter in self.misbehaviour.items()},
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything as plain JSON-ready dicts."""
        return {
            "totals": self.totals,
            "requests": dict(self.requests),
            "instances_created": dict(self.instances_created),
            "subscriptions": dict(self.subscriptions),
            "pairings": dict(self.pairings),
            "faults": dict(self.faults),
            **{kind: dict(counter) for kind, counter in self.misbehaviour.items()},
        }

    def reset(self) -> None:
        """Set every counter back to zero."""
        for counter in (
            self.requests,
            self.instances_created,
            self.subscriptions,
            self.pairings,
            self.faults,
            *self.misbehaviour.values(),
        ):
            counter.clear()
