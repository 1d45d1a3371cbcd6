"""Onboarding: take many WhatsApp instances from nothing to connected, safely and concurrently.

- `State`, the events and `transition`: the pure state machine (see ``docs/onboarding.md``);
- `Onboarding`: the async driver for one instance;
- `Fleet`: many onboardings with shared limits, a 429 cool-down, events and a `FleetReport`;
- `MemoryJournal`, `SQLiteJournal`: where snapshots survive crashes;
- `PostgresJournal`: one job shared by many workers on many machines (see docs/distributed.md);
- presenters: show QR codes and pair codes to whoever holds the phones.
"""

from __future__ import annotations

from ._driver import Gates, Onboarding, OnboardingOptions, Transition
from ._fleet import Failure, Fleet, FleetOptions, FleetReport, InstanceSpec
from ._postgres import JobStatus, PostgresJournal, WorkerStatus
from ._presenters import (
    NullPresenter,
    PngFolderPresenter,
    Presenter,
    TerminalPresenter,
    WebPresenter,
)
from ._state import (
    TERMINAL_STATES,
    TRANSITIONS,
    Cancelled,
    Connected,
    Created,
    CreateIntended,
    Event,
    Failed,
    IllegalTransition,
    IntentCleared,
    PairCodeShown,
    PairingStarted,
    QRShown,
    Resumed,
    Snapshot,
    State,
    Subscribed,
    SubscribeIntended,
    render_ascii,
    render_mermaid,
    transition,
)
from ._store import Journal, MemoryJournal, SQLiteJournal

__all__ = [
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Cancelled",
    "Connected",
    "CreateIntended",
    "Created",
    "Event",
    "Failed",
    "Failure",
    "Fleet",
    "FleetOptions",
    "FleetReport",
    "Gates",
    "IllegalTransition",
    "InstanceSpec",
    "IntentCleared",
    "JobStatus",
    "Journal",
    "MemoryJournal",
    "NullPresenter",
    "Onboarding",
    "OnboardingOptions",
    "PairCodeShown",
    "PairingStarted",
    "PngFolderPresenter",
    "PostgresJournal",
    "Presenter",
    "QRShown",
    "Resumed",
    "SQLiteJournal",
    "Snapshot",
    "State",
    "SubscribeIntended",
    "Subscribed",
    "TerminalPresenter",
    "Transition",
    "WebPresenter",
    "WorkerStatus",
    "render_ascii",
    "render_mermaid",
    "transition",
]
