"""The hourly run rollup: metrics over days read a few thousand summed rows instead of every run.

Tables run_rollup, run_latency_rollup (log-scale bins for percentiles),
run_totals and the queue run_rollup_changes; the run_partials view and the
latency_bin functions; the triggers that queue each run counted or taken back.
Every run already final is queued here; the scheduler folds the queue in
batches, and until it has, the metrics read the queue (exact, only slower).
Also an index on the fire times that made no run, for the missed-occurrences metric.

The functions, the view and the rebuild query are applied as this revision made
them (LATENCY_BINS, RUN_PARTIALS, REBUILD, ROLLUP_CAPTURE), not as the files under
sql/ read today: a later edit of those files must not change what this revision
does (a later revision applies the new version).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)

#: sql/functions/latency_bins.sql as this revision made it.
LATENCY_BINS = """
-- Log-scale bins for latencies (run duration, queue wait), so percentiles can be rolled up and merged:
-- bin k holds (1 ms * 1.04^(k-1), 1 ms * 1.04^k]; bin 0 holds everything up to 1 ms. A bin's value is
-- the point with the same relative distance to both edges, so a percentile read from bins is within 2 %
-- of the exact one (the DDSketch construction). 1 ms to one day needs 465 bins.
CREATE OR REPLACE FUNCTION latency_bin(seconds float8) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN seconds <= 0.001 THEN 0 ELSE ceil(ln(seconds / 0.001) / ln(1.04))::int END $$;

CREATE OR REPLACE FUNCTION latency_bin_value(bin int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN bin <= 0 THEN 0.0 ELSE 0.001 * power(1.04, bin) * 2 / (1 + 1.04) END $$;
"""

#: sql/views/run_partials.sql as this revision made it.
RUN_PARTIALS = """
-- run_facts in the shape of the hourly rollup: one row per run with its hour, its dimensions and the
-- partial sums every run metric adds up. The rollup tables hold these rows summed per hour; a metric
-- reads the rollup for whole hours and this view for the rest, with one expression over both.
CREATE OR REPLACE VIEW run_partials AS
SELECT f.run_id,
       f.created_at,
       date_bin('1 hour', f.created_at, TIMESTAMPTZ '2000-01-01 00:00+00') AS hour,
       f.namespace_id,
       f.kind,
       f.trigger,
       f.status,
       f.pipeline_id,
       f.deployment_id,
       f.error_code,
       f.created_by,
       f.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED') AS final,
       1 AS runs,
       (f.duration_seconds IS NOT NULL)::int AS duration_n,
       coalesce(f.duration_seconds, 0)::float8 AS duration_sum,
       (f.queue_wait_seconds IS NOT NULL)::int AS wait_n,
       coalesce(f.queue_wait_seconds, 0)::float8 AS wait_sum,
       coalesce(f.rows_processed, 0) AS rows_sum,
       coalesce(f.bytes_processed, 0) AS bytes_sum,
       latency_bin(f.duration_seconds::float8) AS duration_bin,
       latency_bin(f.queue_wait_seconds::float8) AS wait_bin
FROM run_facts f;
"""

#: The rebuild_run_rollup query of sql/queries/rollup.sql as this revision made it: queues every run already final.
REBUILD = """
-- Empties the rollup and queues every final run again (`conveyor rollup rebuild`): for after a restore,
-- or if the rollup is ever in doubt. Runs pruned by CONVEYOR_RUN_RETENTION_DAYS are gone from it after.
WITH cleared AS (
    DELETE FROM run_rollup
), cleared_latencies AS (
    DELETE FROM run_latency_rollup
), cleared_totals AS (
    DELETE FROM run_totals
), cleared_changes AS (
    DELETE FROM run_rollup_changes
), queued AS (
    INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id,
                                    error_code, created_by, runs, duration_n, duration_sum, wait_n, wait_sum,
                                    rows_sum, bytes_sum, duration_bin, wait_bin)
    SELECT run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           runs, duration_n, duration_sum, wait_n, wait_sum, rows_sum, bytes_sum, duration_bin, wait_bin
    FROM run_partials WHERE final
    RETURNING 1
)
SELECT count(*) FROM queued;
"""

#: sql/functions/run_rollup_capture.sql as this revision made it (its status lists as they were then).
ROLLUP_CAPTURE = """
-- Keeps the hourly rollup of finished runs exact without slowing the hot path: when a run becomes
-- final (or a final run's figures change) its run_partials row is queued with +1; when it stops being
-- final (a manual retry), its figures change or it is deleted (retention), the row it was counted
-- with is queued with -1, so the rollup always agrees with run_facts. The
-- scheduler folds the queue into the rollup (fold_run_rollup_changes); a metric adds up the rollup,
-- the queue not folded yet and the runs that are not final, all read in one snapshot.
CREATE OR REPLACE FUNCTION capture_run_rollup_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE WHEN TG_WHEN = 'BEFORE' THEN -1 ELSE 1 END;
    target uuid := CASE WHEN TG_WHEN = 'BEFORE' THEN OLD.id ELSE NEW.id END;
BEGIN
    -- A BEFORE trigger reads the row as it was; an AFTER trigger reads it as it is now.
    INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id,
                                    error_code, created_by, runs, duration_n, duration_sum, wait_n, wait_sum,
                                    rows_sum, bytes_sum, duration_bin, wait_bin)
    SELECT run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           sign * runs, sign * duration_n, sign * duration_sum, sign * wait_n, sign * wait_sum,
           sign * rows_sum, sign * bytes_sum, duration_bin, wait_bin
    FROM run_partials WHERE run_id = target;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD WHEN TG_WHEN = 'BEFORE' THEN NEW END;
END $$;

-- What a run is counted with: a change to any of these re-counts a final run. Only evaluated for a
-- final run that stays final: a status change into or out of the final states decides on its own.
CREATE OR REPLACE FUNCTION run_rollup_facts(r runs) RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$ SELECT jsonb_build_array(r.status, r.kind, r.trigger, r.namespace_id, r.pipeline_id, r.deployment_id,
                               r.error_code, r.created_by, r.created_at, r.queued_at, r.started_at, r.finished_at,
                               r.progress) $$;

DROP TRIGGER IF EXISTS runs_rollup_retract ON runs;
DROP TRIGGER IF EXISTS runs_rollup_count ON runs;
DROP TRIGGER IF EXISTS runs_rollup_count_new ON runs;
DROP TRIGGER IF EXISTS runs_rollup_forget ON runs;

CREATE TRIGGER runs_rollup_retract BEFORE UPDATE ON runs FOR EACH ROW
WHEN (OLD.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED')
      AND (NEW.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED')
           OR run_rollup_facts(OLD) IS DISTINCT FROM run_rollup_facts(NEW)))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_count AFTER UPDATE ON runs FOR EACH ROW
WHEN (NEW.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED')
      AND (OLD.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED')
           OR run_rollup_facts(OLD) IS DISTINCT FROM run_rollup_facts(NEW)))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_count_new AFTER INSERT ON runs FOR EACH ROW
WHEN (NEW.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED'))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_forget BEFORE DELETE ON runs FOR EACH ROW
WHEN (OLD.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED'))
EXECUTE FUNCTION capture_run_rollup_change();
"""


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
    op.execute(LATENCY_BINS)
    op.execute(RUN_PARTIALS)
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
    op.execute(ROLLUP_CAPTURE)
    op.execute(REBUILD)
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
