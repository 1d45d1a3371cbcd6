"""Paired, alternating comparison of two SQLiteJournal implementations in one process.

Usage: python benchmarks/results/2026-12-01-sqlite-journal/paired.py OLD_STORE.py [rounds] [n]
OLD_STORE.py is `git show <commit>:vzaps_async/onboarding/_store.py` saved to a file.
Each round: n "instances", 64 at a time, each doing 6 saves with a 1-5 ms sleep between them
(the fleet's pattern: HTTP calls between saves), on a fresh file; reports CPU ms, commits and
voluntary context switches per instance.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from vzaps_async.onboarding import _store as new_store
from vzaps_async.onboarding._state import Snapshot, State


def load_old(path: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("vzaps_async.onboarding._old_store", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


async def run(cls, n: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        journal = await cls(Path(folder) / "j.db").open()
        states = [
            State.PLANNED,
            State.PLANNED,
            State.CREATED,
            State.CREATED,
            State.SUBSCRIBED,
            State.CONNECTED,
        ]

        gate = asyncio.Semaphore(64)
        rng = random.Random(16)

        async def one(i: int) -> None:
            async with gate:
                for state in states:
                    await journal.save(Snapshot(name=f"bench-{i:06d}", state=state))
                    # The fleet's HTTP calls between saves: a few ms each.
                    await asyncio.sleep(rng.uniform(0.001, 0.005))

        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        cpu = time.process_time() - cpu0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        commits = journal._flushed + 1
        await journal.aclose()
    return cpu * 1000 / n, commits / n, (usage1.ru_nvcsw - usage0.ru_nvcsw) / n


def main() -> None:
    old = load_old(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    results: dict[str, list[tuple[float, float, float]]] = {"before": [], "after": []}
    for _ in range(rounds):
        for label, cls in (("before", old.SQLiteJournal), ("after", new_store.SQLiteJournal)):
            results[label].append(asyncio.run(run(cls, n)))
    print(f"{n} instances x 6 saves, {rounds} alternating rounds, medians (min-max):")
    for label, rows in results.items():
        cols = list(zip(*rows, strict=True))
        parts = [f"{statistics.median(c):.3f} ({min(c):.3f}-{max(c):.3f})" for c in cols]
        print(
            f"  {label}: CPU ms/instance {parts[0]}; commits/instance {parts[1]}; "
            f"voluntary ctx switches/instance {parts[2]}"
        )


if __name__ == "__main__":
    main()
