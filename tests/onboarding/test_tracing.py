"""OpenTelemetry: a CLIENT span per request attempt, and a span per onboarding with its steps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import anyio
import pytest
from _shared import FAST
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from vzaps_async import ClientConfig, RetryPolicy
from vzaps_async._client import Client
from vzaps_async.onboarding import (
    Connected,
    Disconnected,
    Event,
    Fleet,
    FleetOptions,
    InstanceSpec,
    MemoryJournal,
    PairingStarted,
    Snapshot,
    State,
    Tracing,
    Transition,
    transition,
)
from vzaps_async.testing import PhonePolicy, Simulator, SimulatorConfig


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    yield memory
    memory.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


async def test_one_span_per_attempt_with_the_resend_count(
    exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    """A request retried after a 503 gives two CLIENT spans: the failed one, then the resend."""
    async with Simulator(phones=PhonePolicy.manual()) as sim:
        port = sim.port
        tracing = Tracing(sim.base_url, tracer_provider=provider)
        config = ClientConfig(retry=RetryPolicy(sleep=False))
        async with Client(
            sim.client_token,
            sim.client_secret,
            base_url=sim.base_url,
            config=config,
            on_request=tracing.on_request,
            on_response=tracing.on_response,
        ) as client:
            info = await client.instances.create("traced")
            sim.faults.force("GET /instances/{id}/session/status", "error_5xx")
            await client.instance(info.id, info.token).session.status()
    spans = [s for s in exporter.get_finished_spans() if "session/status" in s.name]
    assert [s.name for s in spans] == ["GET /instances/{id}/session/status"] * 2
    failed, resent = spans
    assert failed.kind is SpanKind.CLIENT
    attributes = dict(failed.attributes or {})
    assert attributes["http.request.method"] == "GET"
    assert attributes["url.template"] == "/instances/{id}/session/status"
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == port
    assert attributes["http.response.status_code"] == 503
    assert attributes["error.type"] == "503"
    assert "http.request.resend_count" not in attributes
    assert failed.status.status_code is StatusCode.ERROR
    resent_attributes = dict(resent.attributes or {})
    assert resent_attributes["http.request.resend_count"] == 1
    assert resent_attributes["http.response.status_code"] == 200
    assert "error.type" not in resent_attributes
    assert info.id not in " ".join(s.name for s in exporter.get_finished_spans())


async def test_a_span_per_onboarding_with_a_child_per_step(
    exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    """Each onboarding is one span whose children are the steps it went through, in order."""
    config = SimulatorConfig(first_qr_seconds=2.0, qr_seconds=2.0)
    async with Simulator(config, phones=PhonePolicy.scan_after(0.05)) as sim:
        tracing = Tracing(sim.base_url, tracer_provider=provider)
        async with Client(sim.client_token, sim.client_secret, base_url=sim.base_url) as client:
            specs = [InstanceSpec("shop-a"), InstanceSpec("shop-b")]
            fleet = Fleet(client, MemoryJournal(), specs, options=FleetOptions(onboarding=FAST))
            async with anyio.create_task_group() as tg:

                async def follow() -> None:
                    async for item in fleet.events():
                        await tracing.observe(item)

                tg.start_soon(follow)
                assert (await fleet.run()).all_connected
    spans = exporter.get_finished_spans()
    wholes = [s for s in spans if s.name == "onboarding"]
    assert sorted(str((s.attributes or {})["vzaps.instance.name"]) for s in wholes) == [
        "shop-a",
        "shop-b",
    ]
    for whole in wholes:
        assert (whole.attributes or {})["vzaps.state"] == "CONNECTED"
        steps = children(spans, whole)
        assert [s.name for s in steps] == [
            "onboarding PLANNED",
            "onboarding CREATED",
            "onboarding SUBSCRIBED",
            "onboarding PAIRING",
        ]
        assert steps[0].start_time == whole.start_time
        assert steps[-1].end_time == whole.end_time


async def test_a_supervised_drop_is_one_span_from_the_trouble_until_healed(
    exporter: InMemorySpanExporter, provider: TracerProvider
) -> None:
    """A drop that is re-paired is one "onboarding" span, opened when the trouble is seen and
    ended at CONNECTED again, with DISCONNECTED and PAIRING as its steps (DISCONNECTED does not
    end it)."""
    tracing = Tracing("http://127.0.0.1:9", tracer_provider=provider)
    snap = Snapshot(
        name="shop-a", state=State.CONNECTED, instance_id="VZ1", subscribed=True, connected_at=1.0
    )
    events: list[Event] = [
        Disconnected("logout", at=10.0),
        PairingStarted("qr", at=11.0),
        Connected(at=15.0),
    ]
    for event in events:
        new = transition(snap, event)
        await tracing.observe(Transition(new.name, snap.state, new, event))
        snap = new
    spans = exporter.get_finished_spans()
    (whole,) = [s for s in spans if s.name == "onboarding"]
    assert (whole.start_time, whole.end_time) == (10 * 10**9, 15 * 10**9)
    assert (whole.attributes or {})["vzaps.state"] == "CONNECTED"
    steps = children(spans, whole)
    assert [s.name for s in steps] == [
        "onboarding CONNECTED",
        "onboarding DISCONNECTED",
        "onboarding PAIRING",
    ]


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    """The spans whose parent is ``parent``, by start time."""
    return sorted(
        (s for s in spans if s.parent is not None and s.parent.span_id == span_id(parent)),
        key=lambda s: s.start_time or 0,
    )
