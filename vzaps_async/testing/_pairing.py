"""Pairing: the worker's rotating QR codes, pair codes and the simulated phone that uses them
(a piece of `SimState`).

QR windows are computed from the pairing run's start time, and the phone's next action (a scan
or a typed code, per the `PhonePolicy`) is armed as one loop timer per pairing run, so that
waiting instances cost no tasks.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import attrs

from ._http import SimError
from ._model import Pairing, SimInstance, random_upper

if TYPE_CHECKING:
    from ._state import SimState

__all__ = ["Pairings"]

_PHONE_RE = re.compile(r"^[0-9]{8,15}$")


@attrs.define(eq=False)
class Pairings:
    """Starts, shows and completes pairing runs; a completed run connects the session.

    Args:
        state: The state this piece belongs to (clock, QR timing, phone policy, sessions).
    """

    state: SimState = attrs.field(repr=False)

    def settle(self, instance: SimInstance, now: float) -> None:
        """Complete a pairing the phone has done by now, or give up one whose last QR expired.

        Args:
            instance: The instance.
            now: The state clock's time.
        """
        pairing = instance.pairing
        if pairing is None or instance.connected:
            return
        due = self._phone_due(pairing)
        if due is not None and due[0] <= now:
            self.state.sessions.connect(instance, phone=pairing.pair_code_phone if due[1] else None)
            return
        code_valid = pairing.pair_code_expires_at is not None and now < pairing.pair_code_expires_at
        if now >= self.deadline(pairing) and not code_valid:
            self._give_up(instance)

    def _phone_due(self, pairing: Pairing) -> tuple[float, bool] | None:
        """When the simulated phone completes pairing and whether by pair code (or never)."""
        phones = self.state.phones
        best: tuple[float, bool] | None = None
        qr_due = phones.qr_scan_time(pairing.started_at, self._qr_window)
        if qr_due is not None and qr_due < self.deadline(pairing):
            best = (qr_due, False)
        code_due = phones.code_entry_time(pairing.pair_code_issued_at)
        expires = pairing.pair_code_expires_at
        code_in_time = code_due is not None and expires is not None and code_due < expires
        if code_due is not None and code_in_time and (best is None or code_due <= best[0]):
            best = (code_due, True)
        return best

    def _qr_window(self, attempt: int) -> tuple[float, float]:
        """Offsets (from the worker start) when QR ``attempt`` appears and expires."""
        cfg = self.state.config
        start = cfg.worker_start_seconds
        if attempt == 0:
            return start, start + cfg.first_qr_seconds
        begin = start + cfg.first_qr_seconds + (attempt - 1) * cfg.qr_seconds
        return begin, begin + cfg.qr_seconds

    def deadline(self, pairing: Pairing) -> float:
        """When the last QR of a pairing run expires.

        Args:
            pairing: The pairing run.
        """
        return pairing.started_at + self._qr_window(self.state.config.max_qr_attempts - 1)[1]

    def current_qr(self, pairing: Pairing) -> tuple[int, float] | None:
        """``(attempt, expires_at)`` of the QR visible now, or ``None`` (still starting/over).

        Args:
            pairing: The pairing run.
        """
        cfg = self.state.config
        offset = self.state.clock() - pairing.started_at
        if offset < cfg.worker_start_seconds:
            return None
        for attempt in range(cfg.max_qr_attempts):
            begin, end = self._qr_window(attempt)
            if begin <= offset < end:
                return attempt, pairing.started_at + end
        return None

    def start(self, instance: SimInstance) -> Pairing:
        """Start the pairing worker unless one is running; returns the running one.

        Args:
            instance: The instance.
        """
        if instance.pairing is not None:
            return instance.pairing
        pairing = Pairing(started_at=self.state.clock())
        instance.pairing = pairing
        instance.status = "pairing"
        instance.connected = False if instance.connected is None else instance.connected
        instance.updated_at = pairing.started_at
        self._schedule_phone(instance)
        return pairing

    def issue_pair_code(self, instance: SimInstance, phone: str) -> str:
        """Make a pair code for a phone number (starting the worker if needed).

        Args:
            instance: The instance.
            phone: Digits with country code.
        """
        if not _PHONE_RE.match(phone):
            raise SimError(
                400, "VALIDATION_ERROR", "phone: must be 8-15 digits with country code, no '+'"
            )
        pairing = self.start(instance)
        now = self.state.clock()
        raw = random_upper(8)
        pairing.pair_code = f"{raw[:4]}-{raw[4:]}"
        pairing.pair_code_phone = phone
        pairing.pair_code_issued_at = now
        pairing.pair_code_expires_at = now + self.state.config.pair_code_seconds
        self._schedule_phone(instance)
        return pairing.pair_code

    def scan(self, instance: SimInstance, reference: str | None = None) -> None:
        """A phone scans the instance's QR code: pairs, or raises a 409 `SimError`.

        Args:
            instance: The instance.
            reference: The reference the phone read; ``None`` = the one visible now. Any other
                reference (an expired QR) does not pair.
        """
        self.state.refresh(instance)
        pairing = self._require_pairing(instance)
        current = self.current_qr(pairing)
        if current is None:
            raise SimError(409, "NO_QR", "no QR code is being shown")
        if reference is not None and reference != pairing.reference(current[0]):
            raise SimError(409, "QR_EXPIRED", "this QR code is not the current one")
        self.state.sessions.connect(instance, phone=None)

    def enter_pair_code(self, instance: SimInstance, code: str | None = None) -> None:
        """A phone types the pair code: pairs, or raises a 409 `SimError`.

        Args:
            instance: The instance.
            code: The typed code; ``None`` = the current one.
        """
        self.state.refresh(instance)
        pairing = self._require_pairing(instance)
        if pairing.pair_code is None or pairing.pair_code_expires_at is None:
            raise SimError(409, "NO_PAIR_CODE", "no pair code was issued")
        if self.state.clock() >= pairing.pair_code_expires_at:
            raise SimError(409, "PAIR_CODE_EXPIRED", "the pair code expired")
        if code is not None and code.strip().upper() != pairing.pair_code:
            raise SimError(409, "INVALID_PAIR_CODE", "wrong pair code")
        self.state.sessions.connect(instance, phone=pairing.pair_code_phone)

    def stop(self, instance: SimInstance) -> None:
        """End the pairing run, if any, and disarm the phone's timer.

        Args:
            instance: The instance.
        """
        instance.pairing = None
        instance.cancel_scan_timer()

    def _require_pairing(self, instance: SimInstance) -> Pairing:
        if instance.connected:
            raise SimError(409, "ALREADY_CONNECTED", "instance is already connected")
        if instance.pairing is None:
            raise SimError(409, "NOT_PAIRING", "pairing has not started (call session/qr)")
        return instance.pairing

    def _give_up(self, instance: SimInstance) -> None:
        self.stop(instance)
        instance.status = "disconnected"
        instance.updated_at = self.state.clock()

    def _schedule_phone(self, instance: SimInstance) -> None:
        """Arm one loop timer for the phone's next action, so events fire without polling."""
        pairing = instance.pairing
        if pairing is None:
            return
        due = self._phone_due(pairing)
        instance.cancel_scan_timer()
        if due is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        delay = max(0.0, due[0] - self.state.clock())
        instance.scan_timer = loop.call_later(delay, self._on_phone_timer, instance)

    def _on_phone_timer(self, instance: SimInstance) -> None:
        instance.scan_timer = None
        self.state.wake(instance)
