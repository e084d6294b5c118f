"""Response bodies of /api/v1/webhooks: subscriptions (secret only on creation and rotation), deliveries, attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from app.db.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

DeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookLastDelivery(msgspec.Struct):
    """A subscription's newest delivery, as its list shows it."""

    id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_attempt_at: datetime | None
    created_at: datetime


class WebhookOut(msgspec.Struct):
    id: uuid.UUID
    namespace_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    pipeline_id: uuid.UUID | None
    deployment_id: uuid.UUID | None
    enabled: bool
    #: Why it is disabled (by an admin, or after a day of failed deliveries); null when enabled.
    disabled_reason: str | None
    #: Since when every delivery attempt has failed; null when the last one succeeded.
    failing_since: datetime | None
    #: Until when the previous secret still signs beside the current one (after a rotation).
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime
    #: The newest delivery (its status, the receiver's last answer); null before the first event.
    last_delivery: WebhookLastDelivery | None

    @classmethod
    def of(cls, row: WebhookSubscription, last: WebhookDelivery | None = None) -> WebhookOut:
        values = {f: getattr(row, f) for f in cls.__struct_fields__ if f != "last_delivery"}
        return cls(**values, last_delivery=_last(last))


class WebhookWithSecret(WebhookOut):
    """The signing secret (`whsec_…`, Standard Webhooks) is in `secret`, and is shown only this once."""

    secret: str

    @classmethod
    def of(cls, row: WebhookSubscription, last: WebhookDelivery | None = None) -> WebhookWithSecret:
        values = {f: getattr(row, f) for f in cls.__struct_fields__ if f != "last_delivery"}
        return cls(**values, last_delivery=_last(last))


def _last(row: WebhookDelivery | None) -> WebhookLastDelivery | None:
    return (
        None
        if row is None
        else WebhookLastDelivery(**{f: getattr(row, f) for f in WebhookLastDelivery.__struct_fields__})
    )


class WebhookDeliveryOut(msgspec.Struct):
    id: uuid.UUID
    subscription_id: uuid.UUID
    #: The `webhook-id` header: the same on every attempt and on a redelivery.
    message_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    delivered_at: datetime | None
    redelivery_of: uuid.UUID | None
    created_at: datetime
    payload: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description='The body sent: {"type", "version": 1, "timestamp", "data"}. A run.* event\'s `data` holds '
            "run_id, namespace_id, kind, status, trigger, pipeline_id, pipeline_version, deployment_id, dataset_id, "
            "scheduled_for, attempt, error_code, finished_at; a dataset.* event's event_id, namespace_id, dataset_id, "
            "dataset_version, run_id, details; a deployment.misfired or deployment.run_skipped event's "
            "deployment_id, namespace_id, pipeline_id, scheduled_for, outcome, reason (English), reason_code (stable, "
            "as an occurrence's), fire_times, first_scheduled_for; each also `links` (API paths)"
        ),
    ]

    @classmethod
    def of(cls, row: WebhookDelivery) -> WebhookDeliveryOut:
        values = {f: getattr(row, f) for f in cls.__struct_fields__}
        if row.status != "pending":
            values["next_attempt_at"] = None
        return cls(**values)


class WebhookAttemptOut(msgspec.Struct):
    attempt: int
    attempted_at: datetime
    #: The receiver's HTTP status; null when there was no answer (see `error`).
    status_code: int | None
    error: str | None
    latency_ms: float
    #: The first 4 KiB of the answer's body.
    response_excerpt: str

    @classmethod
    def of(cls, row: WebhookAttempt) -> WebhookAttemptOut:
        return cls(**{f: getattr(row, f) for f in cls.__struct_fields__})


class WebhookDeliveryDetail(WebhookDeliveryOut):
    attempt_log: list[WebhookAttemptOut]

    @classmethod
    def with_attempts(cls, row: WebhookDelivery, attempts: list[WebhookAttempt]) -> WebhookDeliveryDetail:
        base = WebhookDeliveryOut.of(row)
        return cls(
            **{f: getattr(base, f) for f in WebhookDeliveryOut.__struct_fields__},
            attempt_log=[WebhookAttemptOut.of(a) for a in attempts],
        )
