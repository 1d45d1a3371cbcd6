"""Measurement helpers shared by the variant processes: CPU, memory, latency, connections."""

from __future__ import annotations

import asyncio
import math
import resource
import socket
import time
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConnectionCountingLoop",
    "CpuClock",
    "current_rss_kib",
    "loopback_only",
    "peak_rss_kib",
    "percentile",
]


class ConnectionCountingLoop(asyncio.SelectorEventLoop):
    """The default selector loop, counting every TCP connection opened by the process.

    aiohttp (its connector) and httpx (through anyio's asyncio backend) both open their sockets
    with ``loop.create_connection``, so counting here measures every client the same way and costs
    nothing per request.
    """

    def __init__(self) -> None:
        super().__init__()
        self.connections_opened = 0

    async def create_connection(self, *args: Any, **kwargs: Any) -> Any:
        """Open a connection like the base loop does, and count it.

        Args:
            args: Positional arguments of `asyncio.loop.create_connection`.
            kwargs: Keyword arguments of `asyncio.loop.create_connection`.
        """
        result = await super().create_connection(*args, **kwargs)
        self.connections_opened += 1
        return result


class CpuClock:
    """User + system CPU seconds of this process (``getrusage(RUSAGE_SELF)``) and wall time."""

    __slots__ = ("_cpu", "_sys", "_user", "_wall")

    def __init__(self) -> None:
        self._user = self._sys = self._cpu = self._wall = 0.0

    def start(self) -> None:
        """Take the starting readings."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self._user, self._sys = usage.ru_utime, usage.ru_stime
        self._wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """Seconds elapsed since `start`: ``wall``, ``user``, ``sys`` and ``cpu`` (user + sys)."""
        wall = time.perf_counter() - self._wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        user = usage.ru_utime - self._user
        sys_ = usage.ru_stime - self._sys
        return {"wall": wall, "user": user, "sys": sys_, "cpu": user + sys_}


def peak_rss_kib() -> int:
    """Peak resident set size of this process so far, KiB (``ru_maxrss`` on Linux)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def current_rss_kib() -> int:
    """Current resident set size of this process, KiB (from ``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return peak_rss_kib()
    return pages * resource.getpagesize() // 1024


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0.0 when there are none).

    Args:
        sorted_values: Values in ascending order.
        fraction: 0.5 for the median, 0.99 for p99.
    """
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def loopback_only(url: str) -> None:
    """Refuse any base URL that is not on the loopback interface (benchmarks stay local).

    Args:
        url: The base URL.
    """
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    try:
        address = socket.gethostbyname(host)
    except OSError as exc:
        raise ValueError(f"cannot resolve benchmark host {host!r}") from exc
    if not address.startswith("127."):
        raise ValueError(f"benchmarks only talk to 127.0.0.1, not {host!r}")
