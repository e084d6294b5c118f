"""Deployments, occurrences, and one scheduled run per (deployment, fire time).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "namespace_id", UUID(as_uuid=True), sa.ForeignKey("namespaces.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False, server_default=""),
        sa.Column(
            "pipeline_id", UUID(as_uuid=True), sa.ForeignKey("pipelines.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("pipeline_version", sa.Integer),
        sa.Column("params", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("schedule", JSONB, nullable=False),
        sa.Column("start_at", TS),
        sa.Column("end_at", TS),
        sa.Column("misfire_policy", sa.String(16), nullable=False),
        sa.Column("misfire_grace_seconds", sa.Integer, nullable=False),
        sa.Column("max_catch_up", sa.Integer, nullable=False),
        sa.Column("max_concurrent_runs", sa.Integer, nullable=False),
        sa.Column("overlap_policy", sa.String(16), nullable=False),
        sa.Column("dst_gap", sa.String(8), nullable=False),
        sa.Column("dst_fold", sa.String(8), nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        sa.Column("retry_backoff_seconds", sa.Float),
        sa.Column("retry_backoff_max_seconds", sa.Float),
        sa.Column("retry_jitter", sa.Float),
        sa.Column("timeout_seconds", sa.Integer),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("paused_at", TS),
        sa.Column("next_run_at", TS),
        sa.Column("last_scheduled_for", TS),
        sa.Column("created_by", UUID(as_uuid=True)),
        sa.Column("created_at", TS, nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.text("now()")),
        sa.UniqueConstraint("namespace_id", "name"),
        sa.CheckConstraint("misfire_policy IN ('skip', 'run_once', 'catch_up')", name="misfire_policy"),
        sa.CheckConstraint(
            "overlap_policy IN ('skip', 'buffer_one', 'buffer_all', 'cancel_running', 'allow')", name="overlap_policy"
        ),
        sa.CheckConstraint("dst_gap IN ('shift', 'skip') AND dst_fold IN ('first', 'last', 'both')", name="dst"),
    )
    op.create_index(
        "ix_deployments_due",
        "deployments",
        ["next_run_at"],
        postgresql_where=sa.text("enabled AND next_run_at IS NOT NULL"),
    )
    op.create_table(
        "occurrences",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "deployment_id", UUID(as_uuid=True), sa.ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("scheduled_for", TS, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("run_id", UUID(as_uuid=True)),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("recorded_at", TS, nullable=False, server_default=sa.text("now()")),
        sa.UniqueConstraint("deployment_id", "scheduled_for"),
        sa.CheckConstraint(
            "outcome IN ('run', 'misfire_skipped', 'coalesced', 'overlap_skipped', 'paused', "
            "'dst_skipped', 'buffered')",
            name="outcome",
        ),
    )
    op.create_index("ix_occurrences_recorded", "occurrences", ["recorded_at"])
    # Exactly one scheduled (or backfilled) run per fire time; manual runs are never in the way.
    op.create_index(
        "uq_runs_deployment_scheduled_for",
        "runs",
        ["deployment_id", "scheduled_for"],
        unique=True,
        postgresql_where=sa.text("trigger IN ('schedule', 'backfill')"),
    )
    op.add_column("runs", sa.Column("held", sa.Boolean, nullable=False, server_default=sa.text("false")))
    op.create_index(
        "ix_runs_deployment_active",
        "runs",
        ["deployment_id", "status"],
        postgresql_where=sa.text("status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRYING')"),
    )
    op.create_index("ix_runs_held", "runs", ["deployment_id", "scheduled_for"], postgresql_where=sa.text("held"))


def downgrade() -> None:
    op.drop_index("ix_runs_held", "runs")
    op.drop_index("ix_runs_deployment_active", "runs")
    op.drop_column("runs", "held")
    op.drop_index("uq_runs_deployment_scheduled_for", "runs")
    op.drop_table("occurrences")
    op.drop_table("deployments")
