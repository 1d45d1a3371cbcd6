"""Fault injection: latency, 5xx, 429 with Retry-After, dropped connections, commit-then-fail.

Rules match the route of a request as ``"METHOD /route/template"`` (``"PUT /instances/create"``)
with shell-style wildcards (``"*"`` matches everything, ``"* /instances/*"`` every instance route).
Random faults draw from one seeded `random.Random`, so a run with a seed is reproducible; tests
that need an exact fault use `Faults.force`.
"""

from __future__ import annotations

import fnmatch
import random
from typing import Any, Literal, get_args

import attrs

__all__ = ["FaultDecision", "FaultKind", "FaultRule", "Faults"]

FaultKind = Literal["error_5xx", "rate_limited", "drop", "commit_then_fail"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


def _rate(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a fault rate must be within [0, 1], got {value}")
    return value


def _check_rate(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    _rate(value)


@attrs.frozen
class FaultRule:
    """Faults for the routes matching one pattern.

    Args:
        route: ``"METHOD /template"`` pattern, wildcards allowed; ``"*"`` = every route.
        latency: Seconds added before the request is handled.
        error_5xx: Probability of answering ``error_status`` instead of handling.
        rate_limited: Probability of answering 429 with ``Retry-After: retry_after``.
        drop: Probability of closing the connection without handling or answering.
        commit_then_fail: Probability of handling the request (the change is kept) and then
            closing the connection without an answer.
        retry_after: ``Retry-After`` seconds of an injected 429.
        error_status: Status of an injected server error.
    """

    route: str = "*"
    latency: float = 0.0
    error_5xx: float = attrs.field(default=0.0, validator=_check_rate)
    rate_limited: float = attrs.field(default=0.0, validator=_check_rate)
    drop: float = attrs.field(default=0.0, validator=_check_rate)
    commit_then_fail: float = attrs.field(default=0.0, validator=_check_rate)
    retry_after: int = 1
    error_status: int = 503

    def matches(self, route: str) -> bool:
        """Whether this rule applies to a route.

        Args:
            route: ``"METHOD /template"``.
        """
        return fnmatch.fnmatchcase(route, self.route)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FaultRule:
        """Build a rule from its JSON form (the attribute names as keys).

        Args:
            value: The JSON object.
        """
        known = {a.name for a in attrs.fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
        return cls(**value)

    def to_json(self) -> dict[str, Any]:
        """The JSON form of the rule."""
        return attrs.asdict(self)


@attrs.frozen
class FaultDecision:
    """What to do to one request.

    Args:
        latency: Seconds to wait first.
        kind: The fault to inject, or ``None``.
        retry_after: ``Retry-After`` for ``rate_limited``.
        error_status: Status for ``error_5xx``.
    """

    latency: float = 0.0
    kind: FaultKind | None = None
    retry_after: int = 1
    error_status: int = 503


@attrs.define
class _Forced:
    route: str
    kind: FaultKind
    remaining: int
    retry_after: int
    error_status: int


@attrs.define
class Faults:
    """The fault rules of a simulator and the random source they draw from.

    Args:
        rules: Rules; every matching rule applies (largest latency, first fault drawn wins).
        seed: Seed of the random source (``None`` = unpredictable).
    """

    rules: list[FaultRule] = attrs.field(factory=list)
    seed: int | None = None
    _random: random.Random = attrs.field(init=False)
    _forced: list[_Forced] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def set_rules(self, rules: list[FaultRule], seed: int | None = None) -> None:
        """Replace every rule (and reseed when a seed is given).

        Args:
            rules: The new rules.
            seed: New seed, or ``None`` to keep the random source.
        """
        self.rules = list(rules)
        if seed is not None:
            self.seed = seed
            self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        """Add one rule.

        Args:
            rule: The rule.
        """
        self.rules.append(rule)

    def clear(self) -> None:
        """Remove every rule and every forced fault."""
        self.rules.clear()
        self._forced.clear()

    def force(
        self,
        route: str,
        kind: FaultKind,
        times: int = 1,
        *,
        retry_after: int = 1,
        error_status: int = 503,
    ) -> None:
        """Inject ``kind`` into the next ``times`` requests matching ``route`` (deterministic).

        Args:
            route: ``"METHOD /template"`` pattern.
            kind: ``error_5xx``, ``rate_limited``, ``drop`` or ``commit_then_fail``.
            times: How many requests get it.
            retry_after: ``Retry-After`` for ``rate_limited``.
            error_status: Status for ``error_5xx``.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if times < 1:
            raise ValueError("times must be >= 1")
        self._forced.append(_Forced(route, kind, times, retry_after, error_status))

    def decide(self, route: str) -> FaultDecision:
        """Draw the faults for one request.

        Args:
            route: ``"METHOD /template"`` of the request.
        """
        latency = 0.0
        for forced in self._forced:
            if fnmatch.fnmatchcase(route, forced.route):
                forced.remaining -= 1
                if forced.remaining <= 0:
                    self._forced.remove(forced)
                latency = max((r.latency for r in self.rules if r.matches(route)), default=0.0)
                return FaultDecision(latency, forced.kind, forced.retry_after, forced.error_status)
        chosen: FaultDecision | None = None
        for rule in self.rules:
            if not rule.matches(route):
                continue
            latency = max(latency, rule.latency)
            if chosen is not None:
                continue
            for kind in ("drop", "error_5xx", "rate_limited", "commit_then_fail"):
                rate: float = getattr(rule, kind)
                if rate > 0.0 and self._random.random() < rate:
                    chosen = FaultDecision(0.0, kind, rule.retry_after, rule.error_status)
                    break
        if chosen is None:
            return FaultDecision(latency=latency)
        return attrs.evolve(chosen, latency=latency)

    def to_json(self) -> dict[str, Any]:
        """Rules and seed as JSON."""
        return {"seed": self.seed, "rules": [r.to_json() for r in self.rules]}
