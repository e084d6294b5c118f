"""run_facts as sql/views/run_facts.sql reads today: a run cancelled while queued for a retry has no queue wait,
and progress_count casts jsonb numbers straight to numeric.

Those edits of the file were made after 0010 without a revision; 0010 read the file when applied, so only a
database built after them had them. 0010 now applies its own copy, and this revision brings every database to
the file. Where that changes the view (a queue wait it no longer counts), the hourly rollup, which holds the
figures the old view gave, is rebuilt from it as 0011 built it (and again on the way down). The SQL is this
file's own: it reads nothing under sql/.

Revision ID: 0023_run_facts_fire_times
Revises: 0021_occurrence_reason_codes
Create Date: 2026-12-05
"""

from __future__ import annotations

import runpy
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0023_run_facts_fire_times"
down_revision = "0021_occurrence_reason_codes"
branch_labels = None
depends_on = None

#: sql/views/run_facts.sql as this revision made it.
RUN_FACTS = """
-- One row per run with the figures every run metric is made of: the single definition of "duration",
-- "queue wait", "rows" and "bytes" that the metrics endpoints aggregate. `created_by` is the user who
-- submitted the run, or for a scheduled run the user who made its deployment.
-- A count from a run's progress, or NULL when it is missing or not a number: a run whose progress holds
-- something odd still finishes (the rollup's triggers read this view) and still counts.
CREATE OR REPLACE FUNCTION progress_count(value jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN jsonb_typeof(value) = 'number' AND abs(value::numeric) < 9e18
                  THEN round(value::numeric)::bigint END $$;

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
       -- A run cancelled while queued for a retry keeps its last start, older than its new queueing: no wait.
       CASE WHEN r.started_at >= coalesce(r.queued_at, r.created_at)
            THEN extract(epoch FROM r.started_at - coalesce(r.queued_at, r.created_at)) END AS queue_wait_seconds,
       coalesce(progress_count(r.progress -> 'rows'), progress_count(r.progress -> 'rows_out')) AS rows_processed,
       progress_count(r.progress -> 'bytes') AS bytes_processed,
       r.created_by
FROM runs r;
"""


def _previous(revision: str) -> dict:
    return runpy.run_path(str(Path(__file__).with_name(f"{revision}.py")))


#: One rebuild or fold of the rollup at a time (the scheduler's rollup_rebuild_lock, sql/queries/rollup.sql).
ROLLUP_LOCK = "SELECT pg_advisory_xact_lock(hashtext('conveyor.run_rollup.fold'))"


def _run_facts() -> str:
    return str(op.get_bind().execute(sa.text("SELECT pg_get_viewdef('run_facts'::regclass)")).scalar_one())


def _replace_run_facts(definition: str) -> None:
    """Apply a run_facts definition; if the view now reads differently, rebuild the rollup it feeds."""
    before = _run_facts()
    op.execute(definition)  # same columns, same types: run_partials, which reads it, stays as it is
    if _run_facts() != before:
        op.execute(ROLLUP_LOCK)
        op.execute(_previous("0011_run_rollup")["REBUILD"])


def upgrade() -> None:
    _replace_run_facts(RUN_FACTS)


def downgrade() -> None:
    _replace_run_facts(_previous("0010_runs_created_by")["RUN_FACTS"])
