"""Metrics views (sql/views/run_facts.sql, occurrence_facts.sql, dataset_facts.sql): the single definition of
each figure the metrics endpoints aggregate.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: The views as this revision made them. sql/views/ holds the current definitions, which later
#: revisions apply: this one must not read them, or a fresh database would run tomorrow's view on
#: yesterday's tables.
VIEWS = {
    "run_facts": """
-- One row per run with the figures every run metric is made of: the single definition of "duration",
-- "queue wait", "rows" and "bytes" that the metrics endpoints aggregate.
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
       coalesce((r.progress ->> 'rows')::bigint, (r.progress ->> 'rows_out')::bigint) AS rows_processed,
       (r.progress ->> 'bytes')::bigint AS bytes_processed
FROM runs r;
""",
    "occurrence_facts": """
-- One row per recorded fire time with its deployment's namespace: what ran, and what did not and why.
CREATE OR REPLACE VIEW occurrence_facts AS
SELECT o.deployment_id,
       d.namespace_id,
       o.scheduled_for,
       o.outcome,
       o.outcome <> 'run' AS missed,
       o.recorded_at
FROM occurrences o
JOIN deployments d ON d.id = o.deployment_id;
""",
    "dataset_facts": """
-- One row per dataset version: imports (source 'uploaded') and pipeline outputs (source 'generated').
CREATE OR REPLACE VIEW dataset_facts AS
SELECT v.dataset_id,
       d.namespace_id,
       d.source,
       v.version,
       v.run_id,
       v.created_at,
       v.row_count,
       v.size_bytes,
       v.source_bytes,
       v.rejected_rows
FROM dataset_versions v
JOIN datasets d ON d.id = v.dataset_id;
""",
}
NAMES = tuple(VIEWS)


def upgrade() -> None:
    for name in NAMES:
        op.execute(VIEWS[name])


def downgrade() -> None:
    for name in reversed(NAMES):
        op.execute(f"DROP VIEW IF EXISTS {name}")
