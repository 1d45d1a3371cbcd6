"""Simulated phones: when (if ever) a phone scans a QR code or types a pair code.

A `PhonePolicy` is a pure value. The state asks it for the moment the phone acts and evaluates
that moment lazily (and with one loop timer per pairing), never with a task per instance.
"""

from __future__ import annotations

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
    """

    mode: Literal["manual", "scan_after"] = "manual"
    seconds: float = 0.0
    on_qr: int = 1

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
        """Parse ``manual`` or ``scan-after=SECONDS[,on-qr=N]`` (the CLI form).

        Args:
            text: The option value.
        """
        text = text.strip()
        if text == "manual":
            return cls.manual()
        options: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(
                    f"expected 'manual' or 'scan-after=SECONDS[,on-qr=N]', got {text!r}"
                )
            options[key.strip()] = value.strip()
        if "scan-after" not in options or set(options) - {"scan-after", "on-qr"}:
            raise ValueError(f"expected 'manual' or 'scan-after=SECONDS[,on-qr=N]', got {text!r}")
        return cls.scan_after(float(options["scan-after"]), int(options.get("on-qr", "1")))

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
