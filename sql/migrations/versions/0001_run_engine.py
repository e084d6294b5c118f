"""Run engine: namespaces, pipelines and versions, runs, run events, outbox, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
STATUSES = ("PENDING", "QUEUED", "RUNNING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "SKIPPED")
KINDS = ("pipeline", "ingest")
TRIGGERS = ("api", "batch", "manual", "schedule", "backfill")
DEFAULT_NAMESPACE_ID = "00000000-0000-7000-8000-000000000001"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
    )
    op.execute(
        f"INSERT INTO namespaces (id, name, description) VALUES ('{DEFAULT_NAMESPACE_ID}', 'default', "
        "'Created by the first migration')"
    )
    op.create_table(
        "pipelines",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "namespace_id", UUID(as_uuid=True), sa.ForeignKey("namespaces.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("latest_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("updated_at", TS, nullable=False, server_default=_now()),
        sa.Column("archived_at", TS),
        sa.UniqueConstraint("namespace_id", "name"),
    )
    op.create_table(
        "pipeline_versions",
        sa.Column(
            "pipeline_id", UUID(as_uuid=True), sa.ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
    )
    op.create_table(
        "runs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "namespace_id", UUID(as_uuid=True), sa.ForeignKey("namespaces.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pipeline_id", UUID(as_uuid=True), sa.ForeignKey("pipelines.id", ondelete="RESTRICT")),
        sa.Column("pipeline_version", sa.Integer),
        sa.Column("deployment_id", UUID(as_uuid=True)),
        sa.Column("scheduled_for", TS),
        sa.Column("params", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempt_base", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_retries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_backoff_seconds", sa.Float, nullable=False),
        sa.Column("retry_backoff_max_seconds", sa.Float, nullable=False),
        sa.Column("retry_jitter", sa.Float, nullable=False),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("queued_at", TS),
        sa.Column("dispatched_at", TS),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("heartbeat_at", TS),
        sa.Column("next_retry_at", TS),
        sa.Column("cancel_requested_at", TS),
        sa.Column("worker_id", sa.String(200)),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("progress", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("log_lines", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint(_one_of("status", STATUSES), name="status"),
        sa.CheckConstraint(_one_of("kind", KINDS), name="kind"),
        sa.CheckConstraint(_one_of("trigger", TRIGGERS), name="trigger"),
        sa.CheckConstraint("attempt >= 0 AND max_retries >= 0 AND timeout_seconds > 0", name="counts"),
    )
    for name, columns in {
        "ix_runs_created": ["created_at", "id"],
        "ix_runs_status_created": ["status", "created_at", "id"],
        "ix_runs_kind_created": ["kind", "created_at", "id"],
        "ix_runs_trigger_created": ["trigger", "created_at", "id"],
        "ix_runs_pipeline_created": ["pipeline_id", "created_at", "id"],
    }.items():
        op.create_index(name, "runs", columns)
    op.create_index(
        "ix_runs_deployment_created",
        "runs",
        ["deployment_id", "created_at", "id"],
        postgresql_where=sa.text("deployment_id IS NOT NULL"),
    )
    op.create_index(
        "ix_runs_running_heartbeat", "runs", ["heartbeat_at"], postgresql_where=sa.text("status = 'RUNNING'")
    )
    op.create_index(
        "ix_runs_queued_dispatched", "runs", ["dispatched_at"], postgresql_where=sa.text("status = 'QUEUED'")
    )

    op.create_table(
        "run_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
    )
    op.create_index("ix_run_events_run", "run_events", ["run_id", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("available_at", TS, nullable=False, server_default=_now()),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", TS),
        sa.Column("dispatched_at", TS),
        sa.Column("broker_message_id", sa.String(64)),
    )
    op.create_index(
        "ix_outbox_due", "outbox", ["available_at", "id"], postgresql_where=sa.text("dispatched_at IS NULL")
    )
    op.create_index(
        "ix_outbox_dispatched", "outbox", ["dispatched_at"], postgresql_where=sa.text("dispatched_at IS NOT NULL")
    )
    op.create_index("ix_outbox_run", "outbox", ["run_id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("resource_ids", JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_idempotency_keys_expires", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    for table in ("idempotency_keys", "outbox", "run_events", "runs", "pipeline_versions", "pipelines", "namespaces"):
        op.drop_table(table)
