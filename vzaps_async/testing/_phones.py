"""Simulated phones: when (if ever) a phone scans a QR code or types a pair code.

A `PhonePolicy` is a pure value. The state asks it for the moment the phone acts and evaluates
that moment lazily (and with one loop timer per pairing), never with a task per instance. Its
trouble rates make connected phones misbehave fleet-wide (drop, log out, turn zombie) at random,
drawn when an instance is looked at, for the time since it was last looked at.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Literal

import attrs

__all__ = ["PhonePolicy"]


@attrs.frozen
class PhonePolicy:
    """How the simulated phone of every instance behaves.

    Use the constructors: `manual` (nothing happens unless a test commands a scan or a code
    entry) or `scan_after` (the phone scans the Nth QR once it has been visible for a while, and
    types a pair code the same while after it was issued).

    Args:
        mode: ``"manual"`` or ``"scan_after"``.
        seconds: Delay before the phone acts (``scan_after`` only).
        on_qr: Which QR of a pairing run is scanned, 1-based (``scan_after`` only).
        drop_rate: Drops per connected hour, each lasting ``drop_seconds`` (`with_trouble`).
        drop_seconds: How long a random drop lasts.
        logout_rate: Logouts per connected hour.
        zombie_rate: Per connected hour, times the session turns zombie (a restart cures it).
    """

    mode: Literal["manual", "scan_after"] = "manual"
    seconds: float = 0.0
    on_qr: int = 1
    drop_rate: float = 0.0
    drop_seconds: float = 30.0
    logout_rate: float = 0.0
    zombie_rate: float = 0.0

    def with_trouble(
        self,
        *,
        drop_rate: float = 0.0,
        drop_seconds: float = 30.0,
        logout_rate: float = 0.0,
        zombie_rate: float = 0.0,
    ) -> PhonePolicy:
        """The same phones, misbehaving at random while connected (rates per connected hour).

        Args:
            drop_rate: Drops per hour; each comes back by itself after ``drop_seconds``.
            drop_seconds: Length of a drop.
            logout_rate: Logouts per hour (a new pairing is needed).
            zombie_rate: Zombies per hour (status says connected, sends stay queued).
        """
        for name, value in (
            ("drop_rate", drop_rate),
            ("drop_seconds", drop_seconds),
            ("logout_rate", logout_rate),
            ("zombie_rate", zombie_rate),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        return attrs.evolve(
            self,
            drop_rate=drop_rate,
            drop_seconds=drop_seconds,
            logout_rate=logout_rate,
            zombie_rate=zombie_rate,
        )

    def trouble(
        self, seconds: float, rng: random.Random
    ) -> Literal["drop", "logout", "zombie"] | None:
        """What (if anything) went wrong with a connected phone over ``seconds``.

        Args:
            seconds: Connected time since the phone was last looked at.
            rng: The random source (the simulator's, seedable).
        """
        rates: tuple[tuple[Literal["drop", "logout", "zombie"], float], ...] = (
            ("logout", self.logout_rate),
            ("zombie", self.zombie_rate),
            ("drop", self.drop_rate),
        )
        for kind, rate in rates:
            # A Poisson process: the chance of at least one event in the interval.
            if rate > 0 and rng.random() < 1 - math.exp(-rate * seconds / 3600):
                return kind
        return None

    @property
    def troubled(self) -> bool:
        """Whether connected phones misbehave on their own (any trouble rate set)."""
        return self.drop_rate > 0 or self.logout_rate > 0 or self.zombie_rate > 0

    @classmethod
    def manual(cls) -> PhonePolicy:
        """Phones act only when commanded (``sim.scan`` / ``sim.enter_pair_code``)."""
        return cls(mode="manual")

    @classmethod
    def scan_after(cls, seconds: float, on_qr: int = 1) -> PhonePolicy:
        """Phones scan the ``on_qr``-th QR after it has been visible ``seconds``.

        Args:
            seconds: Visible time before the scan (also the delay before typing a pair code).
            on_qr: 1-based index of the QR that gets scanned.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        if on_qr < 1:
            raise ValueError("on_qr must be >= 1")
        return cls(mode="scan_after", seconds=seconds, on_qr=on_qr)

    @classmethod
    def parse(cls, text: str) -> PhonePolicy:
        """Parse ``manual`` or ``scan-after=SECONDS[,on-qr=N]``, either followed by trouble
        rates ``,drop-rate=R,drop-seconds=S,logout-rate=R,zombie-rate=R`` (the CLI form).

        Args:
            text: The option value.
        """
        usage = (
            "expected 'manual' or 'scan-after=SECONDS[,on-qr=N]', then optionally "
            f"',drop-rate=R,drop-seconds=S,logout-rate=R,zombie-rate=R'; got {text!r}"
        )
        head, *rest = [part.strip() for part in text.strip().split(",")]
        options: dict[str, str] = {}
        for part in ([] if head == "manual" else [head]) + rest:
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(usage)
            options[key.strip()] = value.strip()
        trouble = {key: float(options.pop(key)) for key in list(options) if key in _TROUBLE}
        if head == "manual":
            policy = cls.manual()
        elif "scan-after" in options:
            policy = cls.scan_after(
                float(options.pop("scan-after")), int(options.pop("on-qr", "1"))
            )
        else:
            raise ValueError(usage)
        if options:
            raise ValueError(usage)
        return policy.with_trouble(**{_TROUBLE[key]: value for key, value in trouble.items()})

    def qr_scan_time(
        self, started_at: float, window: Callable[[int], tuple[float, float]]
    ) -> float | None:
        """When the phone scans a QR in a pairing run, or ``None`` if it never does.

        Args:
            started_at: When the pairing run started.
            window: Maps a 0-based QR attempt to its (appears, expires) offsets from the start.
        """
        if self.mode != "scan_after":
            return None
        begin, end = window(self.on_qr - 1)
        moment = begin + self.seconds
        # A phone that waits longer than the QR lives never gets to scan it.
        return started_at + moment if moment < end else None

    def code_entry_time(self, issued_at: float | None) -> float | None:
        """When the phone types a pair code issued at ``issued_at``, or ``None``.

        Args:
            issued_at: When the code was issued (``None`` = no code).
        """
        if self.mode != "scan_after" or issued_at is None:
            return None
        return issued_at + self.seconds


# The CLI names of the trouble rates, and their keyword in `PhonePolicy.with_trouble`.
_TROUBLE = {
    "drop-rate": "drop_rate",
    "drop-seconds": "drop_seconds",
    "logout-rate": "logout_rate",
    "zombie-rate": "zombie_rate",
}
