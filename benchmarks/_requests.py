"""Scenario 1, the request path: ``send_text`` calls at a fixed concurrency, one client per process.

Each client is a factory returning a ``send`` coroutine function (one call, returning the message
id) and a ``close`` coroutine function. The timed loop runs ``concurrency`` workers that take
requests from a shared budget, so no client pays for creating one task per request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._measure import ConnectionCountingLoop, CpuClock, peak_rss_kib, percentile

__all__ = ["CLIENTS", "run_request_path"]

Send = Callable[[], Awaitable[str]]
Close = Callable[[], Awaitable[None]]
Factory = Callable[[dict[str, Any]], Awaitable[tuple[Send, Close]]]

PHONE = "5511999999999"
TEXT = "hello from the benchmark"


async def _vzaps_async_client(spec: dict[str, Any]) -> tuple[Send, Close]:
    """`vzaps_async.Client` with its defaults except the base URL and the pool size."""
    from vzaps_async import Client, ClientConfig, Limits

    client = Client(
        spec["client_token"],
        spec["client_secret"],
        config=ClientConfig(
            base_url=spec["base_url"], limits=Limits(max_connections=spec["concurrency"])
        ),
    )
    await client.__aenter__()
    messages = client.instance(spec["instance_id"], spec["instance_token"]).messages

    async def send() -> str:
        sent = await messages.send_text(PHONE, TEXT)
        return str(sent.message_id)

    return send, client.aclose


async def _raw_aiohttp_client(spec: dict[str, Any]) -> tuple[Send, Close]:
    """What careful hand-written aiohttp code does for the same call, and nothing more.

    One session with a pooled connector and a total timeout; the headers the SDK sends
    (User-Agent and ``Accept: application/json`` on the session; X-Instance-Token, X-Client-Token
    and ``Content-Type: application/json`` on the call); the body JSON-encoded once per call;
    each response's status checked, its body read whole, JSON-decoded, its ``success`` envelope
    checked and the message id taken from ``data``.
    """
    import aiohttp

    base_url = spec["base_url"]
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=spec["concurrency"]),
        timeout=aiohttp.ClientTimeout(total=30),
        headers={"User-Agent": "bench-raw-aiohttp/1", "Accept": "application/json"},
    )
    url = f"{base_url}/instances/{spec['instance_id']}/chat/send/text"
    headers = {
        "X-Instance-Token": spec["instance_token"],
        "X-Client-Token": spec["client_token"],
        "Content-Type": "application/json",
    }

    async def send() -> str:
        body = json.dumps({"phone": PHONE, "message": TEXT}, separators=(",", ":")).encode()
        async with session.post(url, data=body, headers=headers) as response:
            payload = await response.read()
            status = response.status
        if not 200 <= status < 300:
            raise RuntimeError(f"HTTP {status}: {payload[:200]!r}")
        answer = json.loads(payload)
        if type(answer) is not dict or answer.get("success") is not True:
            raise RuntimeError(f"unexpected answer: {payload[:200]!r}")
        return str(answer["data"]["message_id"])

    return send, session.close


async def _vzaps_official_client(spec: dict[str, Any]) -> tuple[Send, Close]:
    """The official SDK's ``AsyncVZapsClient``, its pool sized like the others' (keep-alive too)."""
    import httpx
    from vzaps import AsyncVZapsClient

    concurrency = spec["concurrency"]
    client = AsyncVZapsClient(
        client_token=spec["client_token"],
        client_secret=spec["client_secret"],
        base_url=spec["base_url"],
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    instance_id, instance_token = spec["instance_id"], spec["instance_token"]

    async def send() -> str:
        answer = await client.messages.send_text(
            instance_id=instance_id, instance_token=instance_token, phone=PHONE, message=TEXT
        )
        return str(answer["data"]["message_id"])

    return send, client.aclose


CLIENTS: dict[str, Factory] = {
    "vzaps_async": _vzaps_async_client,
    "raw_aiohttp": _raw_aiohttp_client,
    "vzaps_official": _vzaps_official_client,
}


async def _drive(send: Send, total: int, concurrency: int) -> tuple[list[float], int, str | None]:
    """Run ``total`` sends on ``concurrency`` workers; latencies (s), errors, first error text."""
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    issued = 0
    clock = time.perf_counter

    async def worker() -> None:
        nonlocal issued, errors, first_error
        while issued < total:
            issued += 1
            started = clock()
            try:
                message_id = await send()
                if not message_id:
                    raise RuntimeError("empty message id")
            except Exception as exc:
                errors += 1
                if first_error is None:
                    first_error = f"{type(exc).__name__}: {exc}"[:500]
                continue
            latencies.append(clock() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, first_error


async def _request_path(
    spec: dict[str, Any], on_start: Callable[[], Any] | None, on_stop: Callable[[], Any] | None
) -> dict[str, Any]:
    total, concurrency = int(spec["requests"]), int(spec["concurrency"])
    send, close = await CLIENTS[spec["client"]](spec)
    try:
        # Warm-up (not timed): authenticate, open the pool, and run every code path once.
        warmup = int(spec.get("warmup", max(2 * concurrency, 100)))
        _, warm_errors, warm_error = await _drive(send, warmup, min(concurrency, warmup))
        if warm_errors and warm_errors == warmup:
            raise RuntimeError(f"every warm-up request failed: {warm_error}")
        if on_start is not None:
            on_start()
        cpu = CpuClock()
        cpu.start()
        latencies, errors, first_error = await _drive(send, total, concurrency)
        spent = cpu.stop()
        if on_stop is not None:
            on_stop()
    finally:
        await close()
    latencies.sort()
    loop = asyncio.get_running_loop()
    return {
        "requests": total,
        "concurrency": concurrency,
        "wall_s": spent["wall"],
        "cpu_s": spent["cpu"],
        "user_s": spent["user"],
        "sys_s": spent["sys"],
        "rps": total / spent["wall"] if spent["wall"] > 0 else 0.0,
        "cpu_us_per_request": spent["cpu"] / total * 1e6,
        "p50_ms": percentile(latencies, 0.50) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "errors": errors,
        "warmup_errors": warm_errors,
        "first_error": first_error or warm_error,
        "connections_opened": getattr(loop, "connections_opened", None),
        "peak_rss_kib": peak_rss_kib(),
    }


def run_request_path(
    spec: dict[str, Any],
    on_start: Callable[[], Any] | None = None,
    on_stop: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Run scenario 1 for one client in this process and return its figures.

    Args:
        spec: ``client``, ``base_url``, ``client_token``, ``client_secret``, ``instance_id``,
            ``instance_token``, ``requests``, ``concurrency`` (optional ``warmup``).
        on_start: Called after the warm-up, just before the timed loop (to start a profiler).
        on_stop: Called just after the timed loop.
    """
    with asyncio.Runner(loop_factory=ConnectionCountingLoop) as runner:
        return runner.run(_request_path(spec, on_start, on_stop))
