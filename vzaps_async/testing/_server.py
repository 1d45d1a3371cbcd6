"""`Simulator`: the simulator app served on a local port, with its Python control surface."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, ClassVar, Literal

import attrs
from aiohttp import web

from vzaps_async._extras import require

from ._app import build_app
from ._config import SimulatorConfig
from ._contract import CONTRACT_KEY
from ._counters import Counters
from ._events import EventBus, get_bus
from ._faults import FaultRule, Faults
from ._model import Account, CardState
from ._phones import PhonePolicy
from ._state import SimState

__all__ = ["Simulator"]


class Simulator:
    """A running VZaps API simulator on ``host:port`` (port 0 picks a free one).

    Use it as ``async with Simulator() as sim:`` (or `start` / `aclose`). A default account with
    a card on file is created up front: `client_token` / `client_secret`.

    Args:
        config: Behaviour settings.
        phones: How simulated phones react (default: only on command).
        faults: Fault rules (a `Faults` object or a list of `FaultRule`).
        host: Interface to bind.
        port: Port to bind (0 = any free port).
        clock: Epoch-seconds clock (inject a `ManualClock` to move time in tests).
        client_token: Credentials of the default account (random when omitted).
        client_secret: Secret of the default account (random when omitted).
        strict: Accept only the documented form of each request, answering 400 naming the
            field otherwise (``SimulatorConfig.strict``). None: ``config.strict``, or
            `default_strict` when that is off.
    """

    #: Whether simulators built with ``strict=None`` are strict. Lenient for users; this
    #: project's own test suite sets it (tests/conftest.py), so every request the SDK sends in
    #: any test is checked against the documented form.
    default_strict: ClassVar[bool] = False

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        phones: PhonePolicy | None = None,
        faults: Faults | Sequence[FaultRule] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        client_token: str | None = None,
        client_secret: str | None = None,
        strict: bool | None = None,
    ) -> None:
        config = config or SimulatorConfig()
        if strict is None:
            strict = config.strict or Simulator.default_strict
        if strict != config.strict:
            config = attrs.evolve(config, strict=strict)
        if faults is None:
            faults = Faults()
        elif not isinstance(faults, Faults):
            faults = Faults(rules=list(faults))
        self.state = SimState(
            config=config,
            phones=phones or PhonePolicy.manual(),
            faults=faults,
            clock=clock or time.time,
        )
        self.account = self.state.accounts.add(
            card="ok", client_token=client_token, client_secret=client_secret
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not started"
        return f"<Simulator {where}>"

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        if self._runner is None:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """REST base URL, ``http://host:port``."""
        return f"http://{self._host}:{self.port}"

    @property
    def realtime_url(self) -> str:
        """Realtime base URL, ``ws://host:port`` (the socket path is ``/events/ws``)."""
        return f"ws://{self._host}:{self.port}"

    @property
    def client_token(self) -> str:
        """Public token of the default account."""
        return self.account.client_token

    @property
    def client_secret(self) -> str:
        """Secret of the default account."""
        return self.account.client_secret

    @property
    def counters(self) -> Counters:
        """Request and business counters."""
        return self.state.counters

    def deviations(self) -> list[dict[str, Any]]:
        """What the lenient simulator tolerated so far, like ``GET /__sim/contract``: one entry
        per distinct deviation (``route``, ``field``, ``sent``, ``documented``, ``count``)."""
        if self._runner is None:
            raise RuntimeError("the simulator is not started")
        log = self._runner.app[CONTRACT_KEY]
        entries: list[dict[str, Any]] = log.to_wire(strict=self.state.config.strict)["deviations"]
        return entries

    @property
    def events(self) -> EventBus:
        """The event bus: inject events, drop realtime connections, read delivery logs."""
        return get_bus(self.state)

    @property
    def faults(self) -> Faults:
        """Fault rules (change them at any time; `Faults.force` for exact faults)."""
        return self.state.faults

    def add_account(self, card: CardState = "ok") -> Account:
        """Create another account.

        Args:
            card: ``"ok"`` (card on file), ``"none"`` or ``"declined"``.
        """
        return self.state.accounts.add(card=card)

    async def scan(self, instance_id: str, reference: str | None = None) -> None:
        """Make the instance's phone scan its QR code.

        Args:
            instance_id: The instance.
            reference: What the phone read; ``None`` = the QR shown now. A reference that is not
                the current one (an expired QR) does not pair.

        Raises:
            SimError: 404 unknown instance; 409 not pairing, expired QR or already connected.
        """
        self.state.pairing.scan(self.state.registry.get(instance_id), reference)

    async def enter_pair_code(self, instance_id: str, code: str | None = None) -> None:
        """Make the instance's phone type the pair code.

        Args:
            instance_id: The instance.
            code: The typed code; ``None`` = the one issued last.

        Raises:
            SimError: 404 unknown instance; 409 no code, expired or wrong code.
        """
        self.state.pairing.enter_pair_code(self.state.registry.get(instance_id), code)

    async def drop(self, instance_id: str, seconds: float) -> None:
        """Make the instance's session drop (``Disconnected``) and come back after ``seconds``.

        Args:
            instance_id: The instance (connected).
            seconds: How long the outage lasts.

        Raises:
            SimError: 404 unknown instance; 409 not connected.
        """
        self.state.sessions.drop(self.state.registry.get(instance_id), seconds)

    async def logout(self, instance_id: str) -> None:
        """Make the instance's phone unlink the session (``Disconnected``, reason ``logout``).

        Args:
            instance_id: The instance (connected).

        Raises:
            SimError: 404 unknown instance; 409 not connected.
        """
        self.state.sessions.logout(self.state.registry.get(instance_id))

    async def zombie(
        self, instance_id: str, cured_by: Literal["restart", "repair"] = "restart"
    ) -> None:
        """Make the instance a zombie: status says connected, sends stay queued, no events.

        Args:
            instance_id: The instance (connected).
            cured_by: ``"restart"`` (``POST /instances/{id}/restart`` cures it) or ``"repair"``
                (only a logout and a new pairing do).

        Raises:
            SimError: 404 unknown instance; 409 not connected.
        """
        self.state.sessions.make_zombie(self.state.registry.get(instance_id), cured_by)

    async def start(self) -> None:
        """Bind the port and start serving.

        Raises:
            MissingExtraError: segno (which draws the QR codes) is not installed; the message
                names ``pip install 'vzaps-async[testing]'``.
        """
        if self._runner is not None:
            return
        # Refuse at start rather than answer HTTP 500 on the first session/qr.
        require("the VZaps simulator", "testing", "segno")
        runner = web.AppRunner(build_app(self.state), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        address = runner.addresses[0]
        self._port = int(address[1])
        self._runner = runner

    async def aclose(self) -> None:
        """Stop serving and cancel the phones' timers."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        for instance in self.state.registry.instances.values():
            instance.cancel_scan_timer()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
