"""Typed models of webhooks: subscriptions, their deliveries (an outbox) and each delivery's attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at_column, trigram_indexes

#: What became of a delivery: still being tried, received (2xx), or given up.
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class WebhookSubscription(Base):
    """A URL that receives a namespace's events of some types, signed with its secret."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        Index("ix_webhook_subscriptions_enabled", "namespace_id", postgresql_where=text("enabled")),
        *trigram_indexes("webhook_subscriptions"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    pipeline_id: Mapped[uuid.UUID | None]
    deployment_id: Mapped[uuid.UUID | None]
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    #: Kept in the clear: a signature needs the secret itself (see the README on who may read the database).
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None]
    #: Since when every attempt has failed (NULL: the last one succeeded); a day of it disables the subscription.
    failing_since: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class WebhookDelivery(Base):
    """One event for one subscription, written in the transaction of the event; the sender claims it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at", "id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    #: The `webhook-id` header: the same on every attempt and on a redelivery, so receivers can deduplicate.
    message_id: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = created_at_column()
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None]
    redelivery_of: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()


class WebhookAttempt(Base):
    """One POST of a delivery: its answer's status code (or error), latency and the start of its body."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float] = mapped_column(Float)
    response_excerpt: Mapped[str] = mapped_column(Text, server_default="")
