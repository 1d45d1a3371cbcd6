"""Scenario 2, fleet onboarding: create, subscribe and pair many instances, one client per process.

Every client does the same calls per instance: ``POST /token`` once, ``PUT /instances/create``,
``POST /instances/{id}/subscribe``, then ``GET /instances/{id}/session/qr`` until it answers
``status: connected``, sleeping ``min(poll_interval, expires_in)`` between polls (the pacing
`vzaps_async`'s onboarding driver uses). Each runner returns the number of instances that ended
connected, the first error seen, and the highest number of instances in flight.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ._measure import ConnectionCountingLoop, CpuClock, current_rss_kib, peak_rss_kib

__all__ = ["CLIENTS", "run_fleet"]

Runner = Callable[[dict[str, Any], list[str], "_Tracker"], Awaitable[int]]


class _Tracker:
    """Instances in flight (now and at most) and the first error, for the report."""

    __slots__ = ("first_error", "in_flight", "max_in_flight")

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_error: str | None = None

    def enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1

    def error(self, exc: BaseException) -> None:
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc}"[:500]


def _pause(data: Any, poll_interval: float) -> float:
    hint = data.get("expires_in") if isinstance(data, dict) else None
    if isinstance(hint, int | float):
        return min(poll_interval, max(float(hint), 0.05))
    return poll_interval


async def _vzaps_async_fleet(spec: dict[str, Any], names: list[str], tracker: _Tracker) -> int:
    """`vzaps_async.onboarding.Fleet` with an in-memory journal (phase limits: its defaults or
    ``spec["phase_concurrency"]``)."""
    from vzaps_async.onboarding import MemoryJournal

    return await _fleet_on(MemoryJournal(), spec, names, tracker)


async def _vzaps_async_sqlite_fleet(
    spec: dict[str, Any], names: list[str], tracker: _Tracker
) -> int:
    """The same `Fleet` on the journal a real job uses: a `SQLiteJournal` file (fsync on every
    durable commit), in a temporary folder."""
    import tempfile

    from vzaps_async.onboarding import SQLiteJournal

    with tempfile.TemporaryDirectory(prefix="vzaps-bench-") as folder:
        async with SQLiteJournal(Path(folder) / "fleet.db") as journal:
            return await _fleet_on(journal, spec, names, tracker)


async def _fleet_on(journal: Any, spec: dict[str, Any], names: list[str], tracker: _Tracker) -> int:
    from vzaps_async import Client, ClientConfig, Limits
    from vzaps_async.onboarding import (
        Fleet,
        FleetOptions,
        InstanceSpec,
        OnboardingOptions,
        State,
    )

    concurrency = int(spec["concurrency"])
    phase = spec.get("phase_concurrency")
    limits = (
        {}
        if phase is None
        else {
            "create_concurrency": phase,
            "subscribe_concurrency": phase,
            "poll_concurrency": phase,
        }
    )
    options = FleetOptions(
        max_in_flight=concurrency,
        onboarding=OnboardingOptions(poll_interval=float(spec["poll_interval"])),
        **limits,
    )
    async with Client(
        spec["client_token"],
        spec["client_secret"],
        config=ClientConfig(
            base_url=spec["base_url"], limits=Limits(max_connections=int(spec["connections"]))
        ),
    ) as client:
        fleet = Fleet(client, journal, [InstanceSpec(name) for name in names], options=options)
        report = await fleet.run()
    tracker.max_in_flight = min(concurrency, len(names))
    if report.failures:
        first = report.failures[0]
        tracker.first_error = f"{len(report.failures)} failed; {first.name}: {first.reason}"[:500]
    return int(report.counts.get(State.CONNECTED, 0))


async def _raw_aiohttp_fleet(spec: dict[str, Any], names: list[str], tracker: _Tracker) -> int:
    """What careful hand-written aiohttp code does for the same calls: ``concurrency`` workers
    over one session.

    The same work per call as the request path's raw client: one session with a pooled connector
    and a total timeout, User-Agent and ``Accept: application/json`` on the session; the auth
    headers on each call, and ``Content-Type: application/json`` on the calls with a body (token,
    create, subscribe), the body JSON-encoded to bytes per call; each response's status checked,
    its body read whole and JSON-decoded, and for the enveloped answers (subscribe, QR) its
    ``success`` envelope checked before ``data`` is taken (token and create answer flat objects,
    checked to be objects).
    """
    import aiohttp

    base_url, client_token = spec["base_url"], spec["client_token"]
    poll_interval = float(spec["poll_interval"])
    connected = 0
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=int(spec["connections"])),
        timeout=aiohttp.ClientTimeout(total=30),
        headers={"User-Agent": "bench-raw-aiohttp/1", "Accept": "application/json"},
    ) as session:

        async def call(
            method: str,
            path: str,
            headers: dict[str, str],
            body: Any = None,
            *,
            enveloped: bool = True,
        ) -> Any:
            data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
            async with session.request(
                method, base_url + path, data=data, headers=headers
            ) as response:
                payload = await response.read()
                status = response.status
            if not 200 <= status < 300:
                raise RuntimeError(f"{method} {path}: HTTP {status}: {payload[:200]!r}")
            answer = json.loads(payload)
            if type(answer) is not dict or (enveloped and answer.get("success") is not True):
                raise RuntimeError(f"{method} {path}: unexpected answer: {payload[:200]!r}")
            return answer["data"] if enveloped else answer

        token = await call(
            "POST",
            "/token",
            {"Content-Type": "application/json"},
            {"client_token": client_token, "client_secret": spec["client_secret"]},
            enveloped=False,
        )
        account = {
            "Authorization": f"Bearer {token['access_token']}",
            "X-Client-Token": client_token,
            "Content-Type": "application/json",
        }

        async def onboard(name: str) -> bool:
            created = await call(
                "PUT", "/instances/create", account, {"name": name}, enveloped=False
            )
            instance_id = created["id"]
            await call("POST", f"/instances/{instance_id}/subscribe", account, {})
            own = {"X-Instance-Token": created["token"], "X-Client-Token": client_token}
            qr_path = f"/instances/{instance_id}/session/qr"
            while True:
                data = await call("GET", qr_path, own)
                if data.get("status") == "connected":
                    return True
                await asyncio.sleep(_pause(data, poll_interval))

        pending = iter(names)

        async def worker() -> None:
            nonlocal connected
            for name in pending:
                tracker.enter()
                try:
                    done = await onboard(name)
                    connected += done
                except Exception as exc:
                    tracker.error(exc)
                finally:
                    tracker.leave()

        await asyncio.gather(*(worker() for _ in range(int(spec["concurrency"]))))
    return connected


async def _vzaps_official_fleet(spec: dict[str, Any], names: list[str], tracker: _Tracker) -> int:
    """A plain ``asyncio.gather`` under a semaphore over the official ``AsyncVZapsClient``."""
    import httpx
    from vzaps import AsyncVZapsClient

    poll_interval = float(spec["poll_interval"])
    connections = int(spec["connections"])
    semaphore = asyncio.Semaphore(int(spec["concurrency"]))
    async with AsyncVZapsClient(
        client_token=spec["client_token"],
        client_secret=spec["client_secret"],
        base_url=spec["base_url"],
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    ) as client:

        async def onboard(name: str) -> bool:
            async with semaphore:
                tracker.enter()
                try:
                    created = await client.instances.create(name=name)
                    instance_id, token = created["id"], created["token"]
                    await client.instances.subscribe(instance_id, instance_token=token)
                    while True:
                        data = (await client.sessions.qr(instance_id, instance_token=token))["data"]
                        if data.get("status") == "connected":
                            return True
                        await asyncio.sleep(_pause(data, poll_interval))
                except Exception as exc:
                    tracker.error(exc)
                    return False
                finally:
                    tracker.leave()

        await client.auth.get_access_token()
        results = await asyncio.gather(*(onboard(name) for name in names))
    return sum(results)


CLIENTS: dict[str, Runner] = {
    "vzaps_async": _vzaps_async_fleet,
    "vzaps_async_sqlite": _vzaps_async_sqlite_fleet,
    "raw_aiohttp": _raw_aiohttp_fleet,
    "vzaps_official": _vzaps_official_fleet,
}


async def _fleet(
    spec: dict[str, Any], on_start: Callable[[], Any] | None, on_stop: Callable[[], Any] | None
) -> dict[str, Any]:
    count, concurrency = int(spec["instances"]), int(spec["concurrency"])
    names = [f"{spec.get('name_prefix', 'bench')}-{index:06d}" for index in range(count)]
    tracker = _Tracker()
    # Import the client's modules before the baseline so that only the fleet's memory is counted.
    if spec["client"].startswith("vzaps_async"):
        import sqlite3  # noqa: F401

        import vzaps_async.onboarding  # noqa: F401
    elif spec["client"] == "vzaps_official":
        import vzaps  # noqa: F401
    else:
        import aiohttp  # noqa: F401
    baseline_rss = current_rss_kib()
    cpu = CpuClock()
    if on_start is not None:
        on_start()
    cpu.start()
    connected = await CLIENTS[spec["client"]](spec, names, tracker)
    spent = cpu.stop()
    if on_stop is not None:
        on_stop()
    peak_rss = peak_rss_kib()
    in_flight = min(concurrency, count)
    loop = asyncio.get_running_loop()
    return {
        "instances": count,
        "concurrency": concurrency,
        "connections_limit": int(spec["connections"]),
        "wall_s": spent["wall"],
        "cpu_s": spent["cpu"],
        "user_s": spent["user"],
        "sys_s": spent["sys"],
        "instances_per_s": count / spent["wall"] if spent["wall"] > 0 else 0.0,
        "cpu_ms_per_instance": spent["cpu"] / count * 1e3,
        "baseline_rss_kib": baseline_rss,
        "peak_rss_kib": peak_rss,
        "in_flight": in_flight,
        "max_in_flight_seen": tracker.max_in_flight,
        "rss_growth_kib": peak_rss - baseline_rss,
        "connected": connected,
        "errors": count - connected,
        "first_error": tracker.first_error,
        "connections_opened": getattr(loop, "connections_opened", None),
    }


def run_fleet(
    spec: dict[str, Any],
    on_start: Callable[[], Any] | None = None,
    on_stop: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Run scenario 2 for one client in this process and return its figures.

    Args:
        spec: ``client``, ``base_url``, ``client_token``, ``client_secret``, ``instances``,
            ``concurrency`` (instances in flight), ``connections`` (pool size),
            ``poll_interval``, optional ``name_prefix``.
        on_start: Called just before the fleet starts (to start a profiler).
        on_stop: Called just after it ends.
    """
    with asyncio.Runner(loop_factory=ConnectionCountingLoop) as runner:
        return runner.run(_fleet(spec, on_start, on_stop))
