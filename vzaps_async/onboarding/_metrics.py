"""Prometheus metrics for onboarding and supervision (the ``vzaps-async[metrics]`` extra).

`Metrics` keeps its own registry and is fed from three places the caller wires up: the client's
``on_response`` hook (requests by route template and status, with a duration histogram), the
`Transition`s of a fleet or a supervisor (`observe`: transitions, time to connected, QR codes
shown, re-pairs, restarts), and a function that counts instances by state at scrape time
(`count_states`). `serve` exposes ``GET /metrics`` on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from vzaps_async._limits import CoolDown
from vzaps_async._routes import route_template
from vzaps_async._transport import ResponseInfo

from ._driver import Transition
from ._state import Connected, PairCodeShown, PairingStarted, QRShown, Restarted, State

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

__all__ = ["Metrics"]


class _Live:
    """A collector that reads values when Prometheus scrapes (states, the 429 cool-down)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        states = GaugeMetricFamily(
            "vzaps_instances", "Instances by onboarding/supervision state", labels=["state"]
        )
        counts = self._metrics.states() if self._metrics.states is not None else {}
        for state in State:
            states.add_metric([state.value], counts.get(state, 0))
        yield states
        cooldown = self._metrics.cooldown
        pauses = CounterMetricFamily(
            "vzaps_rate_limit_cooldowns", "429 answers that paused every request of the client"
        )
        pauses.add_metric([], cooldown.pauses if cooldown is not None else 0)
        yield pauses


class Metrics:
    """The metrics of one onboarding or supervision run, in their own registry.

    Args:
        cooldown: The client's 429 cool-down (``client.transport.cooldown``), counted at scrape.

    Raises:
        ImportError: prometheus-client is not installed (``pip install 'vzaps-async[metrics]'``).
    """

    def __init__(self, cooldown: CoolDown | None = None) -> None:
        try:
            from prometheus_client import CollectorRegistry, Counter, Histogram
        except ImportError as exc:  # pragma: no cover - the extra is installed in dev
            raise ImportError(
                "metrics need prometheus-client: pip install 'vzaps-async[metrics]'"
            ) from exc
        self.registry = CollectorRegistry()
        self.cooldown = cooldown
        #: Returns the number of instances per state; read at every scrape.
        self.states: Callable[[], Mapping[State, int]] | None = None
        registry = self.registry
        self.transitions = Counter(
            "vzaps_transitions",
            "State-machine transitions applied",
            ["source", "target", "event"],
            registry=registry,
        )
        self.time_to_connected = Histogram(
            "vzaps_time_to_connected_seconds",
            "Seconds from planning an instance to its first connection",
            buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf")),
            registry=registry,
        )
        self.codes_shown = Counter(
            "vzaps_pairing_codes_shown", "QR codes and pair codes shown", registry=registry
        )
        self.repairs = Counter("vzaps_repairs", "Re-pairs started", registry=registry)
        self.restarts = Counter("vzaps_restarts", "Instance restarts sent", registry=registry)
        self.requests = Counter(
            "vzaps_requests",
            "Request attempts by route template and status (or error type)",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "vzaps_request_duration_seconds",
            "Seconds per request attempt",
            ["method", "route"],
            registry=registry,
        )
        collector: Collector = _Live(self)
        registry.register(collector)

    def on_response(self, info: ResponseInfo) -> None:
        """Count one request attempt (pass as ``Client(on_response=metrics.on_response)``).

        Args:
            info: What the transport reports after the attempt.
        """
        route = route_template(info.path)
        status = str(info.status) if info.status is not None else (info.error or "error")
        self.requests.labels(info.method, route, status).inc()
        self.request_duration.labels(info.method, route).observe(info.elapsed)

    async def observe(self, item: Transition) -> None:
        """Count one transition (a fleet's or a supervisor's ``observer``).

        Args:
            item: The applied transition.
        """
        event = item.event
        self.transitions.labels(item.previous.value, item.state.value, type(event).__name__).inc()
        if isinstance(event, (QRShown, PairCodeShown)):
            self.codes_shown.inc()
        elif isinstance(event, Restarted):
            self.restarts.inc()
        elif isinstance(event, PairingStarted) and item.previous in (
            State.DISCONNECTED,
            State.STALLED,
        ):
            self.repairs.inc()
        snap = item.snapshot
        # Only the first connection sets connected_at; a reconnect or a re-pair keeps it.
        if isinstance(event, Connected) and snap.connected_at == event.at:
            self.time_to_connected.observe(max(0.0, event.at - snap.planned_at))

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    @asynccontextmanager
    async def serve(self, port: int = 0, host: str = "127.0.0.1") -> AsyncIterator[str]:
        """Serve ``GET /metrics`` while the block runs; yields its URL.

        Args:
            port: Port to bind (0 picks a free one).
            host: Interface to bind.
        """
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST

        async def metrics(request: web.Request) -> web.Response:
            del request
            return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0][1]
            yield f"http://{host}:{bound}/metrics"
        finally:
            await runner.cleanup()
