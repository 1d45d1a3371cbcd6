"""Memory a finished fleet still holds, by journal and fleet size (tracemalloc, deterministic).

Usage: python benchmarks/results/2026-12-01-sqlite-journal/retained.py [sizes...]
Runs a fleet on the in-process simulator (phones scan at once, 100 in flight) and, while the
Fleet and its report are still referenced, counts the live allocations made during the run outside
the simulator (vzaps_async/testing and aiohttp.web excluded, after a
gc.collect()); the difference between two fleet sizes divided by
the extra instances is what each finished instance leaves behind (specs included: the Fleet
keeps its specs).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path

from vzaps_async import Client
from vzaps_async.onboarding import (
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    OnboardingOptions,
    SQLiteJournal,
)
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig

FAST = OnboardingOptions(poll_interval=0.02, deadline=120, backoff_base=0.01, backoff_max=0.2)


def outside_simulator(snapshot: tracemalloc.Snapshot) -> int:
    keep = snapshot.filter_traces(
        [
            tracemalloc.Filter(False, "*/vzaps_async/testing/*"),
            tracemalloc.Filter(False, "<attrs generated * vzaps_async.testing.*"),
            tracemalloc.Filter(False, "*/aiohttp/web*"),  # the simulator's server side
        ]
    )
    return sum(stat.size for stat in keep.statistics("filename"))


async def one(size: int, kind: str) -> float:
    config = SimulatorConfig(first_qr_seconds=0.3, qr_seconds=0.3)
    with tempfile.TemporaryDirectory() as folder:
        async with (
            Simulator(phones=PhonePolicy.scan_after(0.0), config=config) as sim,
            Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client,
        ):
            journal = MemoryJournal() if kind == "memory" else SQLiteJournal(Path(folder) / "j")
            async with journal:
                specs = [InstanceSpec(f"mem-{kind}-{i:06d}") for i in range(size)]
                options = FleetOptions(onboarding=FAST, max_in_flight=100)
                fleet = Fleet(client, journal, specs, options=options)
                gc.collect()
                tracemalloc.start()
                before = outside_simulator(tracemalloc.take_snapshot())
                report = await fleet.run()
                gc.collect()  # what is still referenced, not garbage awaiting a collection
                after = outside_simulator(tracemalloc.take_snapshot())
                tracemalloc.stop()
                assert report.all_connected, report.failures[:3]
                return after - before


def main() -> None:
    small, large = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (300, 1200)
    asyncio.run(one(50, "sqlite"))  # warm-up: first-use imports and caches are not per instance
    for kind in ("memory", "sqlite"):
        low, high = asyncio.run(one(small, kind)), asyncio.run(one(large, kind))
        print(
            f"{kind:>6} journal: retained {low / 1024:,.0f} KiB after {small}, "
            f"{high / 1024:,.0f} KiB after {large}: "
            f"{(high - low) / (large - small):,.0f} B per extra instance"
        )


if __name__ == "__main__":
    main()
