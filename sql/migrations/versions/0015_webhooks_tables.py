"""Webhooks: subscriptions, deliveries (an outbox written by the event's own transaction) and attempts.

The triggers of sql/functions/webhook_capture.sql write a delivery per matching enabled subscription when a run
ends, a dataset is ingested or fails to import, or a fire time produces no run; the scheduler's sender posts them.

This revision applies sql/functions/webhook_capture.sql as it was then (WEBHOOK_CAPTURE; 0016 changed it).

Revision ID: 0015_webhooks_tables
Revises: 0014_runlog_chunks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0015_webhooks_tables"
down_revision = "0014_runlog_chunks"
branch_labels = None
depends_on = None

NOW = sa.text("now()")

#: sql/functions/webhook_capture.sql as this revision made it (its status lists as they were then).
WEBHOOK_CAPTURE = """
-- Webhook deliveries, written by the transaction that causes the event (the transactional outbox idea):
-- a run reaching a final state, a dataset event, a fire time that produced no run. Each trigger fires only
-- on those changes (its WHEN is checked before any function call), and each does one INSERT ... SELECT from
-- the namespace's enabled subscriptions: nothing is written, and nobody is woken, when none matches.
-- Payload: {"type", "timestamp", "version": 1, "data": {ids..., "links": {...}}}; links are API paths.
CREATE OR REPLACE FUNCTION enqueue_webhooks(
    event_type text, namespace uuid, pipeline uuid, deployment uuid, data jsonb
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (message_id, subscription_id, event_type, payload)
    SELECT 'msg_' || replace(CAST(gen_random_uuid() AS text), '-', ''), s.id, event_type,
           jsonb_build_object('type', event_type, 'version', 1,
                              'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', data)
    FROM webhook_subscriptions s
    WHERE s.namespace_id = namespace AND s.enabled AND event_type = ANY(s.event_types)
      AND (s.pipeline_id IS NULL OR s.pipeline_id = pipeline)
      AND (s.deployment_id IS NULL OR s.deployment_id = deployment);
    IF FOUND THEN
        PERFORM pg_notify('conveyor_webhooks', '');
    END IF;
END $$;

CREATE OR REPLACE FUNCTION capture_run_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhooks(
        'run.' || lower(NEW.status), NEW.namespace_id, NEW.pipeline_id, NEW.deployment_id,
        jsonb_build_object(
            'run_id', NEW.id, 'namespace_id', NEW.namespace_id, 'kind', NEW.kind, 'status', NEW.status,
            'trigger', NEW.trigger, 'pipeline_id', NEW.pipeline_id, 'pipeline_version', NEW.pipeline_version,
            'deployment_id', NEW.deployment_id, 'dataset_id', NEW.dataset_id, 'scheduled_for', NEW.scheduled_for,
            'attempt', NEW.attempt, 'error_code', NEW.error_code, 'finished_at', NEW.finished_at,
            'links', jsonb_build_object('run', '/api/v1/runs/' || NEW.id,
                                        'logs', '/api/v1/runs/' || NEW.id || '/logs')));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION capture_dataset_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.namespace_id IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM enqueue_webhooks(
        NEW.type, NEW.namespace_id, NULL, NULL,
        jsonb_build_object(
            'event_id', NEW.id, 'namespace_id', NEW.namespace_id, 'dataset_id', NEW.dataset_id,
            'dataset_version', NEW.dataset_version, 'run_id', NEW.run_id, 'details', NEW.payload,
            'links', jsonb_build_object('dataset', '/api/v1/datasets/' || NEW.dataset_id,
                                        'run', '/api/v1/runs/' || NEW.run_id)));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION capture_occurrence_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d record;
    event_type text := CASE WHEN NEW.outcome IN ('misfire_skipped', 'coalesced') THEN 'deployment.misfired'
                            ELSE 'deployment.run_skipped' END;
BEGIN
    SELECT namespace_id, pipeline_id INTO d FROM deployments WHERE id = NEW.deployment_id;
    PERFORM enqueue_webhooks(
        event_type, d.namespace_id, d.pipeline_id, NEW.deployment_id,
        jsonb_build_object(
            'deployment_id', NEW.deployment_id, 'namespace_id', d.namespace_id, 'pipeline_id', d.pipeline_id,
            'scheduled_for', NEW.scheduled_for, 'outcome', NEW.outcome, 'reason', NEW.reason,
            'links', jsonb_build_object(
                'deployment', '/api/v1/deployments/' || NEW.deployment_id,
                'occurrences', '/api/v1/deployments/' || NEW.deployment_id || '/occurrences')));
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS runs_webhooks ON runs;
DROP TRIGGER IF EXISTS events_webhooks ON events;
DROP TRIGGER IF EXISTS occurrences_webhooks ON occurrences;

CREATE TRIGGER runs_webhooks AFTER UPDATE OF status ON runs FOR EACH ROW
WHEN (NEW.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT') AND OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION capture_run_webhook();

CREATE TRIGGER events_webhooks AFTER INSERT ON events FOR EACH ROW
WHEN (NEW.type IN ('dataset.ingested', 'dataset.import.failed'))
EXECUTE FUNCTION capture_dataset_webhook();

CREATE TRIGGER occurrences_webhooks AFTER INSERT ON occurrences FOR EACH ROW
WHEN (NEW.outcome NOT IN ('run', 'buffered'))
EXECUTE FUNCTION capture_occurrence_webhook();
"""


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
    op.execute(WEBHOOK_CAPTURE)


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
