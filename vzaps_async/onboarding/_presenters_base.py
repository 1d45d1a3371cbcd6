"""The `Presenter` protocol (what a driver shows to people) and the `NullPresenter`."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._state import PairCodeShown, QRShown, Snapshot

__all__ = ["NullPresenter", "Presenter"]


@runtime_checkable
class Presenter(Protocol):
    """Shows pairing material to whoever holds the phones, and clears it when done.

    Every method receives the snapshot after the event. Implementations must be quick (they run
    inside the onboarding task) and must not raise: a failing presenter never stops onboarding.
    """

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        """A new QR code is ready (it replaces the previous one of the same instance).

        Args:
            snapshot: The instance's snapshot.
            event: The QR and its expiry.
        """
        ...

    async def pair_code_shown(self, snapshot: Snapshot, event: PairCodeShown) -> None:
        """A pair code is ready to be typed on the phone.

        Args:
            snapshot: The instance's snapshot.
            event: The code, phone and expiry.
        """
        ...

    async def connected(self, snapshot: Snapshot) -> None:
        """The instance connected; its QR or code can be removed.

        Args:
            snapshot: The instance's snapshot.
        """
        ...

    async def failed(self, snapshot: Snapshot) -> None:
        """The instance failed (``snapshot.failure`` says why), or the supervisor stopped healing
        it and a person is needed (``snapshot.attention`` says why); its QR or code can go.

        Args:
            snapshot: The instance's snapshot.
        """
        ...


class NullPresenter:
    """Shows nothing (for phones that scan on their own, like the simulator's)."""

    async def qr_shown(self, snapshot: Snapshot, event: QRShown) -> None:
        """Ignore the QR.

        Args:
            snapshot: The instance's snapshot.
            event: The QR.
        """

    async def pair_code_shown(self, snapshot: Snapshot, event: PairCodeShown) -> None:
        """Ignore the code.

        Args:
            snapshot: The instance's snapshot.
            event: The code.
        """

    async def connected(self, snapshot: Snapshot) -> None:
        """Nothing to clear.

        Args:
            snapshot: The instance's snapshot.
        """

    async def failed(self, snapshot: Snapshot) -> None:
        """Nothing to clear.

        Args:
            snapshot: The instance's snapshot.
        """
