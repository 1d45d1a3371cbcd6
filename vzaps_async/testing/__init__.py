"""Local simulator of the VZaps public API and pytest fixtures.

``async with Simulator() as sim:`` serves a stateful implementation of the API contract on a local
port (``sim.base_url``), with simulated phones (`PhonePolicy`), fault injection (`FaultRule`) and
counters (`Counters`). ``python -m vzaps_async.testing`` runs it as its own process.
"""

from __future__ import annotations

from ._config import ManualClock, SimulatorConfig
from ._counters import Counters
from ._events import EventBus
from ._faults import FaultRule, Faults
from ._http import SimError
from ._phones import PhonePolicy
from ._server import Simulator

__all__ = [
    "Counters",
    "EventBus",
    "FaultRule",
    "Faults",
    "ManualClock",
    "PhonePolicy",
    "SimError",
    "Simulator",
    "SimulatorConfig",
]
