"""OpenTelemetry spans for requests and onboardings (the ``vzaps-async[otel]`` extra).

Only the OpenTelemetry API is used: the application chooses the SDK, the processors and the
exporters (without an SDK every span is a no-op). `Tracing` gives:

- a CLIENT span per request attempt, from the client's hooks
  (``Client(on_request=tracing.on_request, on_response=tracing.on_response)``), following the
  HTTP client semantic conventions: ``http.request.method``, ``server.address``,
  ``server.port``, ``url.template``, ``http.response.status_code``,
  ``http.request.resend_count`` (from the second attempt on) and ``error.type``;
- a span per onboarding with a child span per step (the time spent in each state), from the
  `Transition`s of a fleet or a supervisor (`observe`), timed by the transitions themselves;
  `end_open` ends those still open when the run stops (an exporter never sees a span that is
  not ended).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import attrs

from vzaps_async._routes import route_template
from vzaps_async._transport import RequestInfo, ResponseInfo

from ._driver import Transition
from ._state import State

__all__ = ["Tracing"]


# The states that end an onboarding's (or a re-pair's) span. Not `TERMINAL_STATES`: DISCONNECTED
# and STALLED are where a supervisor's trouble begins, and its span goes on until it is healed.
_SPAN_ENDS = frozenset({State.CONNECTED, State.FAILED, State.CANCELLED})


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


@attrs.define(eq=False)
class _Open:
    """The spans of one onboarding still running: the whole and its current step."""

    whole: Any
    step: Any
    #: The state the current step is in.
    state: str


class Tracing:
    """Makes OpenTelemetry spans for request attempts and onboardings.

    Args:
        base_url: The API base URL the client talks to (``server.address`` and ``server.port``).
        tracer_provider: The provider to take the tracer from (default: the global one).

    Raises:
        ImportError: opentelemetry-api is not installed (``pip install 'vzaps-async[otel]'``).
    """

    def __init__(self, base_url: str, tracer_provider: Any = None) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:  # pragma: no cover - the extra is installed in dev
            raise ImportError(
                "tracing needs opentelemetry-api: pip install 'vzaps-async[otel]'"
            ) from exc
        self._trace = trace
        self._tracer = trace.get_tracer("vzaps_async", tracer_provider=tracer_provider)
        url = urlsplit(base_url)
        self._server: dict[str, Any] = {
            "server.address": url.hostname or "",
            "server.port": url.port or (443 if url.scheme == "https" else 80),
        }
        # The attempt in flight in this task: the hooks of one attempt run in the same context.
        self._attempt: ContextVar[Any] = ContextVar(f"vzaps_tracing_{id(self)}", default=None)
        self._onboardings: dict[str, _Open] = {}

    # ------------------------------------------------------------------ request attempts

    def on_request(self, info: RequestInfo) -> None:
        """Start the span of one attempt (the client's ``on_request`` hook).

        Args:
            info: The attempt about to be sent.
        """
        dangling = self._attempt.get()
        if dangling is not None:  # the previous attempt of this task was cancelled mid-flight
            dangling.set_attribute("error.type", "cancelled")
            dangling.end()
        template = route_template(info.path)
        attributes: dict[str, Any] = {
            "http.request.method": info.method,
            "url.template": template,
            **self._server,
        }
        if info.attempt > 1:
            attributes["http.request.resend_count"] = info.attempt - 1
        span = self._tracer.start_span(
            f"{info.method} {template}",
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
        )
        self._attempt.set(span)

    def on_response(self, info: ResponseInfo) -> None:
        """End the span of one attempt (the client's ``on_response`` hook).

        Args:
            info: What the attempt got.
        """
        span = self._attempt.get()
        if span is None:
            return
        self._attempt.set(None)
        error = info.error
        if info.status is not None:
            span.set_attribute("http.response.status_code", info.status)
            if info.status >= 400:
                error = error or str(info.status)
        if error is not None:
            span.set_attribute("error.type", error)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
        span.end()

    # ------------------------------------------------------------------ onboardings

    async def observe(self, item: Transition) -> None:
        """Follow one transition (a fleet's or a supervisor's ``observer``).

        Args:
            item: The applied transition.
        """
        snap = item.snapshot
        at = _ns(item.event.at)
        spans = self._onboardings.get(item.name)
        if spans is None:
            # An onboarding began when it was planned; a re-pair, when its trouble was seen.
            start = _ns(snap.planned_at) if item.previous is State.PLANNED else at
            whole = self._tracer.start_span(
                "onboarding", start_time=start, attributes={"vzaps.instance.name": item.name}
            )
            spans = _Open(whole, self._step(whole, item.previous.value, start), item.previous.value)
            self._onboardings[item.name] = spans
        if item.state is item.previous:
            return
        spans.step.end(end_time=at)
        if item.state in _SPAN_ENDS:
            del self._onboardings[item.name]
            whole = spans.whole
            whole.set_attribute("vzaps.state", item.state.value)
            if snap.instance_id is not None:
                whole.set_attribute("vzaps.instance.id", snap.instance_id)
            if snap.failure:
                whole.set_attribute("error.type", "FAILED")
                whole.set_status(self._trace.Status(self._trace.StatusCode.ERROR, snap.failure))
            whole.end(end_time=at)
            return
        spans.step = self._step(spans.whole, item.state.value, at)
        spans.state = item.state.value

    def end_open(self, reason: str) -> None:
        """End every onboarding span still open, now, with an error status saying why and in
        which state (call it when a supervisor or fleet run stops: its instances in trouble
        or still pairing would otherwise never be exported).

        Args:
            reason: Why they end, in words (``"supervisor stopped"``).
        """
        now = time.time_ns()
        error = self._trace.StatusCode.ERROR
        for spans in self._onboardings.values():
            why = f"{reason} in state {spans.state}"
            spans.step.set_status(self._trace.Status(error, why))
            spans.step.end(end_time=now)
            spans.whole.set_attribute("vzaps.state", spans.state)
            spans.whole.set_attribute("error.type", "stopped")
            spans.whole.set_status(self._trace.Status(error, why))
            spans.whole.end(end_time=now)
        self._onboardings.clear()

    def _step(self, whole: Any, state: str, at: int) -> Any:
        context = self._trace.set_span_in_context(whole)
        return self._tracer.start_span(
            f"onboarding {state}", context=context, start_time=at, attributes={"vzaps.state": state}
        )
