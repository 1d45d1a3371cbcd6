"""Settings of the simulator where the contract leaves a choice open, and the test clock."""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["ManualClock", "SimulatorConfig"]


@attrs.frozen
class SimulatorConfig:
    """Behaviour of the simulator where the contract leaves a choice open (all configurable).

    Args:
        jwt_lifetime: Seconds a JWT from ``POST /token`` stays valid (``expires_in``).
        first_qr_seconds: Lifetime of the first QR code of a pairing attempt.
        qr_seconds: Lifetime of every later QR code.
        max_qr_attempts: QR codes shown before the worker gives up (the next ``session/qr``
            starts a new pairing).
        worker_start_seconds: While the worker starts, ``session/qr`` answers
            ``{"status": "starting"}`` without a QR (0 = a QR right away).
        pair_code_seconds: Lifetime of a phone pair code.
        expose_token_in_list: Return the instance ``token`` in list/get/update answers too.
        subscribe_without_card: ``"error"`` answers 402 ``NO_PAYMENT_METHOD``; ``"checkout"``
            answers ``mode: "checkout"`` with a hosted-payment ``url``.
        no_card_status: HTTP status of the ``NO_PAYMENT_METHOD`` error.
        declined_status: HTTP status of the ``PAYMENT_REQUIRED`` error (declined card).
        cancel_subscribed: What cancel does to a subscribed instance: ``"scheduled"`` sets
            ``cancel_at`` to the end of the billing period, ``"immediate"`` cancels now.
        cancel_trialing: The same for an instance that never subscribed.
        billing_period_seconds: Length of a billing period.
        trial_seconds: Length of the trial that starts at creation.
        require_subscription_for_pairing: Refuse ``session/qr``/``paircode`` with 402 unless the
            instance is ``ACTIVE``.
        jwt_only_refusal_status: Status for instance-token credentials on a JWT-only route
            (401: the route's only accepted credential, a JWT, is missing).
        rate_limit_per_second: Per-token request rate (token bucket); ``None`` = unlimited.
        rate_limit_burst: Bucket size of that rate limit.
        retry_after_seconds: ``Retry-After`` sent with 429 answers.
        require_connected_for_sends: Refuse sends and message actions with 409 ``NOT_CONNECTED``
            while the instance's WhatsApp session is not connected.
        app_url: Base of the dashboard URL in the instance ``url`` field.
        strict: Accept only the documented form of each request (field names, types, required
            fields, query parameters, the JSON Content-Type) and answer anything else with 400
            ``VALIDATION_ERROR`` naming the field (see `_contract`). Off: the other forms the
            official SDKs send are read too, and each deviation is recorded at
            ``GET /__sim/contract``.
        webhook_reads: Which webhook-set body the server reads: ``"any"`` (every form SDKs
            send), or only ``"webhookURL"`` (the API reference) or ``"webhook_url"`` (the Go,
            TypeScript, .NET and Java SDKs); a body in the other form is then answered 200 and
            silently stores nothing, as a server decoding into a fixed struct would.
    """

    jwt_lifetime: float = 3600.0
    first_qr_seconds: float = 60.0
    qr_seconds: float = 20.0
    max_qr_attempts: int = 6
    worker_start_seconds: float = 0.0
    pair_code_seconds: float = 180.0
    expose_token_in_list: bool = True
    subscribe_without_card: Literal["error", "checkout"] = "error"
    no_card_status: int = 402
    declined_status: int = 402
    cancel_subscribed: Literal["scheduled", "immediate"] = "scheduled"
    cancel_trialing: Literal["scheduled", "immediate"] = "immediate"
    billing_period_seconds: float = 30 * 86400.0
    trial_seconds: float = 7 * 86400.0
    require_subscription_for_pairing: bool = False
    jwt_only_refusal_status: int = 401
    rate_limit_per_second: float | None = None
    rate_limit_burst: int = 10
    retry_after_seconds: int = 1
    require_connected_for_sends: bool = False
    app_url: str = "https://app.vzaps.com"
    strict: bool = False
    webhook_reads: Literal["any", "webhookURL", "webhook_url"] = "any"


class ManualClock:
    """A clock for tests: time moves only when `advance` is called.

    Args:
        start: Initial epoch seconds.
    """

    def __init__(self, start: float = 1_776_074_400.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        Args:
            seconds: How far.
        """
        self.now += seconds
