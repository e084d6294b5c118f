"""Webhooks: subscriptions, deliveries (an outbox written by the event's own transaction) and attempts.

The triggers of sql/functions/webhook_capture.sql write a delivery per matching enabled subscription when a run
ends, a dataset is ingested or fails to import, or a fire time produces no run; the scheduler's sender posts them.

Revision ID: 0015_webhooks_tables
Revises: 0014_runlog_chunks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from app.db.queries import SQL_ROOT, sql_file

revision = "0015_webhooks_tables"
down_revision = "0014_runlog_chunks"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "namespace_id", UUID(as_uuid=True), sa.ForeignKey("namespaces.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, server_default="", nullable=False),
        sa.Column("event_types", ARRAY(sa.Text), nullable=False),
        sa.Column("pipeline_id", UUID(as_uuid=True)),
        sa.Column("deployment_id", UUID(as_uuid=True)),
        sa.Column("enabled", sa.Boolean, server_default=sa.text("true"), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True)),
        sa.Column("failing_since", sa.DateTime(timezone=True)),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("created_by", UUID(as_uuid=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    op.create_index(
        "ix_webhook_subscriptions_enabled",
        "webhook_subscriptions",
        ["namespace_id"],
        postgresql_where=sa.text("enabled"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column(
            "subscription_id",
            UUID(as_uuid=True),
            sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer, server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("redelivery_of", UUID(as_uuid=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_deliveries_subscription", "webhook_deliveries", ["subscription_id", "created_at", "id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id",
            UUID(as_uuid=True),
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("response_excerpt", sa.Text, server_default="", nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])
    # A queue with churn: vacuum it often rather than after 20 % turnover.
    op.execute("ALTER TABLE webhook_deliveries SET (autovacuum_vacuum_scale_factor = 0.02)")
    op.execute(sql_file(SQL_ROOT / "functions" / "webhook_capture.sql"))


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS runs_webhooks ON runs")
    op.execute("DROP TRIGGER IF EXISTS events_webhooks ON events")
    op.execute("DROP TRIGGER IF EXISTS occurrences_webhooks ON occurrences")
    for function in (
        "capture_run_webhook()",
        "capture_dataset_webhook()",
        "capture_occurrence_webhook()",
        "enqueue_webhooks(text, uuid, uuid, uuid, jsonb)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    for table in ("webhook_attempts", "webhook_deliveries", "webhook_subscriptions"):
        op.drop_table(table)
