"""Onboarding: take many WhatsApp instances from nothing to connected, safely and concurrently.

- `State`, the events and `transition`: the pure state machine (see ``docs/onboarding.md``);
- `Onboarding`: the async driver for one instance;
- `Fleet`: many onboardings with shared limits, a 429 cool-down, events and a `FleetReport`;
- `Supervisor`: keeps a journal's connected instances connected (drops, logouts, zombies);
- `MemoryJournal`, `SQLiteJournal`: where snapshots survive crashes;
- `PostgresJournal`: one job shared by many workers on many machines (see docs/distributed.md);
- `Metrics` (Prometheus) and `Tracing` (OpenTelemetry), optional extras;
- presenters: show QR codes and pair codes to whoever holds the phones.
"""

from __future__ import annotations

from ._driver import Gates, Onboarding, OnboardingOptions, Transition
from ._fleet import Failure, Fleet, FleetOptions, FleetReport, InstanceSpec
from ._metrics import Metrics
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
    Disconnected,
    Escalated,
    Event,
    Failed,
    IllegalTransition,
    IntentCleared,
    PairCodeShown,
    PairingAbandoned,
    PairingStarted,
    QRShown,
    Restarted,
    RestartIntended,
    Resumed,
    Snapshot,
    Stalled,
    State,
    Subscribed,
    SubscribeIntended,
    render_ascii,
    render_mermaid,
    transition,
)
from ._store import Journal, MemoryJournal, SQLiteJournal
from ._supervisor import Supervisor, SupervisorOptions, SupervisorReport
from ._tracing import Tracing

__all__ = [
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Cancelled",
    "Connected",
    "CreateIntended",
    "Created",
    "Disconnected",
    "Escalated",
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
    "Metrics",
    "NullPresenter",
    "Onboarding",
    "OnboardingOptions",
    "PairCodeShown",
    "PairingAbandoned",
    "PairingStarted",
    "PngFolderPresenter",
    "PostgresJournal",
    "Presenter",
    "QRShown",
    "RestartIntended",
    "Restarted",
    "Resumed",
    "SQLiteJournal",
    "Snapshot",
    "Stalled",
    "State",
    "SubscribeIntended",
    "Subscribed",
    "Supervisor",
    "SupervisorOptions",
    "SupervisorReport",
    "TerminalPresenter",
    "Tracing",
    "Transition",
    "WebPresenter",
    "WorkerStatus",
    "render_ascii",
    "render_mermaid",
    "transition",
]
