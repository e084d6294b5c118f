"""A subscription's delivery log (attempts, status codes, latency, excerpts), test events and redeliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, text, true, tuple_
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session, aliased

from app.core.errors import Conflict, NotFound
from app.db.webhooks import WebhookAttempt, WebhookDelivery
from app.domain import audit
from app.domain.pagination import decode_cursor
from app.domain.permissions import Principal
from app.domain.webhooks import get_webhook

#: The type of the event `POST /webhooks/{id}/test` sends (whatever the subscription's event types).
TEST_EVENT = "webhook.test"
_WAKE = text("SELECT pg_notify('conveyor_webhooks', '')")


def list_deliveries(
    session: Session,
    principal: Principal,
    webhook_id: uuid.UUID,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> list[WebhookDelivery]:
    """Deliveries newest first; `limit + 1` rows to tell if more exist."""
    get_webhook(session, principal, webhook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        at = decode_cursor(cursor)
        query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(at.at, at.id))
    return list(session.scalars(query))


def last_deliveries(session: Session, subscription_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, WebhookDelivery]:
    """Each subscription's newest delivery (one index probe per subscription), by subscription id."""
    if not subscription_ids:
        return {}
    ids = select(func.unnest(array(list(subscription_ids), type_=PG_UUID(as_uuid=True))).column_valued("id")).subquery()
    newest = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == ids.c.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(1)
        .lateral()
    )
    rows = session.scalars(select(aliased(WebhookDelivery, newest)).select_from(ids).join(newest, true()))
    return {row.subscription_id: row for row in rows}


def get_delivery(
    session: Session, principal: Principal, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """One delivery with its attempts, oldest first."""
    get_webhook(session, principal, webhook_id)
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.subscription_id != webhook_id:
        raise NotFound("that delivery does not exist", code="webhook_delivery_not_found")
    attempts = session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
    )
    return row, list(attempts)


def send_test(
    session: Session, principal: Principal, webhook_id: uuid.UUID, *, audit_as: audit.AuditContext
) -> WebhookDelivery:
    """Queue a `webhook.test` event for the subscription; it goes through the sender like any delivery."""
    sub = get_webhook(session, principal, webhook_id)
    if not sub.enabled:
        raise Conflict("the webhook is disabled; enable it first", code="webhook_disabled")
    now = datetime.now(UTC)
    row = WebhookDelivery(
        message_id="msg_" + uuid.uuid4().hex,
        subscription_id=sub.id,
        event_type=TEST_EVENT,
        payload={
            "type": TEST_EVENT,
            "version": 1,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {
                "webhook_id": str(sub.id),
                "namespace_id": str(sub.namespace_id),
                "links": {"webhook": f"/api/v1/webhooks/{sub.id}"},
            },
        },
    )
    return _queue(session, row, audit_as, action="webhooks.test", namespace_id=sub.namespace_id)


def redeliver(
    session: Session,
    principal: Principal,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    audit_as: audit.AuditContext,
) -> WebhookDelivery:
    """A new delivery of a past one's message: same `webhook-id` and payload, attempts counted afresh."""
    past, _ = get_delivery(session, principal, webhook_id, delivery_id)
    sub = get_webhook(session, principal, webhook_id)
    if not sub.enabled:
        raise Conflict("the webhook is disabled; enable it first", code="webhook_disabled")
    row = WebhookDelivery(
        message_id=past.message_id,
        subscription_id=past.subscription_id,
        event_type=past.event_type,
        payload=past.payload,
        redelivery_of=past.id,
    )
    return _queue(session, row, audit_as, action="webhooks.redeliver", namespace_id=sub.namespace_id)


def _queue(
    session: Session, row: WebhookDelivery, audit_as: audit.AuditContext, *, action: str, namespace_id: uuid.UUID
) -> WebhookDelivery:
    session.add(row)
    session.flush()
    session.refresh(row)
    session.execute(_WAKE)
    audit.record(
        session,
        audit_as,
        action=action,
        resource_type="webhook",
        resource_id=row.subscription_id,
        namespace_id=namespace_id,
        details={"delivery_id": str(row.id), "message_id": row.message_id},
    )
    return row
