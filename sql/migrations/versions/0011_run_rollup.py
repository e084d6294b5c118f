"""The hourly run rollup: metrics over days read a few thousand summed rows instead of every run.

Tables run_rollup, run_latency_rollup (log-scale bins for percentiles),
run_totals and the queue run_rollup_changes; the run_partials view and the
latency_bin functions; the triggers that queue each run counted or taken back.
Every run already final is queued here; the scheduler folds the queue in
batches, and until it has, the metrics read the queue (exact, only slower).
Also an index on the fire times that made no run, for the missed-occurrences metric.

This revision applies sql/functions/, sql/views/run_partials.sql and the
rebuild query as they are today; whoever changes them next copies today's
text in here first, as 0008 does, so a fresh database still builds in order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from app.db.queries import query, sql_file

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parents[2]
TS = sa.TIMESTAMP(timezone=True)


def _dimensions() -> list[sa.Column]:
    return [
        sa.Column("hour", TS, nullable=False),
        sa.Column("namespace_id", UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pipeline_id", UUID(as_uuid=True)),
        sa.Column("deployment_id", UUID(as_uuid=True)),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("created_by", UUID(as_uuid=True)),
    ]


def _sums(integer: type[sa.Integer] | type[sa.BigInteger]) -> list[sa.Column]:
    return [
        sa.Column("runs", integer, nullable=False),
        sa.Column("duration_n", integer, nullable=False),
        sa.Column("duration_sum", sa.Double, nullable=False),
        sa.Column("wait_n", integer, nullable=False),
        sa.Column("wait_sum", sa.Double, nullable=False),
        sa.Column("rows_sum", sa.BigInteger, nullable=False),
        sa.Column("bytes_sum", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.execute((SQL / "functions" / "latency_bins.sql").read_text())
    op.execute(sql_file(SQL / "views" / "run_partials.sql"))  # status sets rendered from app/core/states.py
    op.create_table(
        "run_rollup",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        *_dimensions(),
        *_sums(sa.BigInteger),
    )
    op.create_index(
        "uq_run_rollup_key",
        "run_rollup",
        [
            "hour",
            "namespace_id",
            "kind",
            "trigger",
            "status",
            "pipeline_id",
            "deployment_id",
            "error_code",
            "created_by",
        ],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "run_latency_rollup",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("hour", TS, nullable=False),
        sa.Column("namespace_id", UUID(as_uuid=True), nullable=False),
        sa.Column("grain", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("pipeline_id", UUID(as_uuid=True)),
        sa.Column("deployment_id", UUID(as_uuid=True)),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("bin", sa.Integer, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "uq_run_latency_rollup_key",
        "run_latency_rollup",
        ["hour", "namespace_id", "grain", "kind", "pipeline_id", "deployment_id", "measure", "bin"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "run_totals",
        sa.Column("namespace_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("runs", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "run_rollup_changes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("run_id", UUID(as_uuid=True), nullable=False),
        *_dimensions(),
        *_sums(sa.Integer),
        sa.Column("duration_bin", sa.Integer),
        sa.Column("wait_bin", sa.Integer),
    )
    op.create_index("ix_run_rollup_changes_hour", "run_rollup_changes", ["hour"])
    # A queue: every row is deleted soon after it is written. Vacuum it often, not after 20 % turnover,
    # or metric reads wade through dead index entries.
    op.execute(
        "ALTER TABLE run_rollup_changes SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000)"
    )
    op.execute(sql_file(SQL / "functions" / "run_rollup_capture.sql"))
    op.execute(query("rebuild_run_rollup"))  # queues every run already final
    op.create_index(
        "ix_occurrences_missed", "occurrences", ["scheduled_for"], postgresql_where=sa.text("outcome <> 'run'")
    )


def downgrade() -> None:
    op.drop_index("ix_occurrences_missed", table_name="occurrences")
    op.execute("DROP TRIGGER IF EXISTS runs_rollup_retract ON runs")
    op.execute("DROP TRIGGER IF EXISTS runs_rollup_count ON runs")
    op.execute("DROP TRIGGER IF EXISTS runs_rollup_count_new ON runs")
    op.execute("DROP TRIGGER IF EXISTS runs_rollup_forget ON runs")
    op.execute("DROP FUNCTION IF EXISTS capture_run_rollup_change()")
    op.execute("DROP FUNCTION IF EXISTS run_rollup_facts(runs)")
    for table in ("run_rollup_changes", "run_totals", "run_latency_rollup", "run_rollup"):
        op.drop_table(table)
    op.execute("DROP VIEW IF EXISTS run_partials")
    op.execute("DROP FUNCTION IF EXISTS latency_bin_value(int)")
    op.execute("DROP FUNCTION IF EXISTS latency_bin(float8)")
