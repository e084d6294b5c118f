"""Runs record who made them (`runs.created_by`), so metrics can be broken down by user.

A run submitted through the API records its caller; a scheduled or backfilled
run records the user who made its deployment. run_facts gains the column, and
reads counts from a run's progress without failing on a value that is not a number.

The view is applied as this revision made it (RUN_FACTS), not as sql/views/run_facts.sql reads today: a later
edit of that file must not change what this revision does (0023 applies the edits made since).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import runpy
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: sql/views/run_facts.sql as this revision made it (94137e6, which gave this revision progress_count).
RUN_FACTS = """
-- One row per run with the figures every run metric is made of: the single definition of "duration",
-- "queue wait", "rows" and "bytes" that the metrics endpoints aggregate. `created_by` is the user who
-- submitted the run, or for a scheduled run the user who made its deployment.
-- A count from a run's progress, or NULL when it is missing or not a number: a run whose progress holds
-- something odd still finishes (the rollup's triggers read this view) and still counts.
CREATE OR REPLACE FUNCTION progress_count(value jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN jsonb_typeof(value) = 'number' AND abs(value::text::numeric) < 9e18
                  THEN round(value::text::numeric)::bigint END $$;

CREATE OR REPLACE VIEW run_facts AS
SELECT r.id AS run_id,
       r.namespace_id,
       r.kind,
       r.trigger,
       r.status,
       r.pipeline_id,
       r.deployment_id,
       r.dataset_id,
       coalesce(r.error_code, '') AS error_code,
       r.created_at,
       r.queued_at,
       r.started_at,
       r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at) AS duration_seconds,
       extract(epoch FROM r.started_at - coalesce(r.queued_at, r.created_at)) AS queue_wait_seconds,
       coalesce(progress_count(r.progress -> 'rows'), progress_count(r.progress -> 'rows_out')) AS rows_processed,
       progress_count(r.progress -> 'bytes') AS bytes_processed,
       r.created_by
FROM runs r;
"""


def upgrade() -> None:
    op.add_column("runs", sa.Column("created_by", UUID(as_uuid=True)))
    op.execute(
        "UPDATE runs r SET created_by = d.created_by FROM deployments d"
        " WHERE d.id = r.deployment_id AND r.created_by IS NULL"
    )
    op.execute(RUN_FACTS)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS run_facts")
    op.execute("DROP FUNCTION IF EXISTS progress_count(jsonb)")
    op.drop_column("runs", "created_by")
    op.execute(runpy.run_path(str(Path(__file__).with_name("0008_metrics_views.py")))["VIEWS"]["run_facts"])
