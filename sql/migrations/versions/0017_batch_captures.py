"""Less Postgres CPU per run transition: a finish batch captures its own rollup and webhooks, lighter WHENs and CHECKs.

- finish_runs captures the rollup change and the webhook deliveries of the runs it finishes once per batch (one
  statement each) instead of the row triggers running a statement per run; the triggers skip those runs while
  conveyor.finish_runs_captures is 'on' (sql/functions/run_transitions.sql).
- The WHEN clauses of the rollup and webhook triggers on runs, and runs' CHECK constraints on status, kind and
  trigger, test one array constant instead of an IN list: Postgres reads every one of them back from its
  stored tree and compiles it for each statement that updates runs (a node per listed value: several kB).
  Whether a final run that stays final changed its figures moves from the rollup triggers' WHEN into their
  function (run_rollup_capture.sql), asked only for such a run.

The CHECKs mean the same; they are added NOT VALID and then validated, so the table is not locked for the scan.

This revision applies sql/functions/webhook_capture.sql, run_rollup_capture.sql and run_transitions.sql as they were
then (WEBHOOK_CAPTURE, ROLLUP_CAPTURE, TRANSITIONS; 0019 changed the first), so a fresh database does not run
tomorrow's functions on yesterday's tables, a later edit of those files does not change what this revision does,
and a later revision's downgrade has them to go back to.

Revision ID: 0017_batch_captures
Revises: 0016_cheaper_transitions
Create Date: 2026-12-03
"""

# ruff: noqa: E501  (the SQL keeps the status lists written out as it applied them: lines as long as they were then)
from __future__ import annotations

import runpy
from pathlib import Path

from alembic import op

revision = "0017_batch_captures"
down_revision = "0016_cheaper_transitions"
branch_labels = None
depends_on = None

HERE = Path(__file__).resolve().parent
#: runs' CHECKs that list a column's values (as 0001 made them, from the enums).
CHECKS = {
    "status": ["PENDING", "QUEUED", "RUNNING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "SKIPPED"],
    "kind": ["pipeline", "ingest"],
    "trigger": ["api", "batch", "manual", "schedule", "backfill"],
}
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

-- A concluded run's deliveries: called by the trigger below and, for a batch of runs at once, by finish_runs.
CREATE OR REPLACE FUNCTION enqueue_run_webhooks(r runs) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhooks(
        'run.' || lower(r.status), r.namespace_id, r.pipeline_id, r.deployment_id,
        jsonb_build_object(
            'run_id', r.id, 'namespace_id', r.namespace_id, 'kind', r.kind, 'status', r.status,
            'trigger', r.trigger, 'pipeline_id', r.pipeline_id, 'pipeline_version', r.pipeline_version,
            'deployment_id', r.deployment_id, 'dataset_id', r.dataset_id, 'scheduled_for', r.scheduled_for,
            'attempt', r.attempt, 'error_code', r.error_code, 'finished_at', r.finished_at,
            'links', jsonb_build_object('run', '/api/v1/runs/' || r.id, 'logs', '/api/v1/runs/' || r.id || '/logs')));
END $$;

-- A run's payload is built only when its namespace has an enabled subscription at all (a cheap index probe):
-- most runs end where nobody subscribes, and building twenty jsonb fields for nothing cost more than the probe.
CREATE OR REPLACE FUNCTION capture_run_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM webhook_subscriptions s WHERE s.namespace_id = NEW.namespace_id AND s.enabled) THEN
        PERFORM enqueue_run_webhooks(NEW);
    END IF;
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

-- A run concluded inside finish_runs is captured by finish_runs itself, once for its whole batch
-- (conveyor.finish_runs_captures is 'on' only around its UPDATE): see sql/functions/run_transitions.sql.
CREATE TRIGGER runs_webhooks AFTER UPDATE OF status ON runs FOR EACH ROW
WHEN (NEW.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT}') AND OLD.status IS DISTINCT FROM NEW.status
      AND current_setting('conveyor.finish_runs_captures', true) IS DISTINCT FROM 'on')
EXECUTE FUNCTION capture_run_webhook();

CREATE TRIGGER events_webhooks AFTER INSERT ON events FOR EACH ROW
WHEN (NEW.type IN ('dataset.ingested', 'dataset.import.failed'))
EXECUTE FUNCTION capture_dataset_webhook();

CREATE TRIGGER occurrences_webhooks AFTER INSERT ON occurrences FOR EACH ROW
WHEN (NEW.outcome NOT IN ('run', 'buffered'))
EXECUTE FUNCTION capture_occurrence_webhook();
"""

#: sql/functions/run_rollup_capture.sql as this revision made it (its status lists as they were then).
ROLLUP_CAPTURE = """
-- Keeps the hourly rollup of finished runs exact without slowing the hot path: when a run becomes
-- final (or a final run's figures change) its run_partials row is queued with +1; when it stops being
-- final (a manual retry), its figures change or it is deleted (retention), the row it was counted
-- with is queued with -1, so the rollup always agrees with run_facts. The
-- scheduler folds the queue into the rollup (fold_run_rollup_changes); a metric adds up the rollup,
-- the queue not folded yet and the runs that are not final, all read in one snapshot.
-- The triggers' WHEN clauses are read back (and compiled) for every statement on runs, whatever it touches:
-- they stay small (one array constant per status set) and test only the status; whether a final run that
-- stays final changed its figures is asked here, only for such a run (the rare case: a retention purge, an
-- edit of a finished run), and such an update that changes nothing counted is skipped.
-- Queue the runs' rollup figures as run_partials reads them now, with `sign` (-1 retracts, +1 counts): the
-- one INSERT of the rollup queue, for the row triggers below and for finish_runs' batches.
CREATE OR REPLACE FUNCTION capture_run_rollup(p_run_ids uuid[], sign int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id,
                                    error_code, created_by, runs, duration_n, duration_sum, wait_n, wait_sum,
                                    rows_sum, bytes_sum, duration_bin, wait_bin)
    SELECT run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           sign * runs, sign * duration_n, sign * duration_sum, sign * wait_n, sign * wait_sum,
           sign * rows_sum, sign * bytes_sum, duration_bin, wait_bin
    FROM run_partials WHERE run_id = ANY(p_run_ids);
END $$;

CREATE OR REPLACE FUNCTION capture_run_rollup_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE WHEN TG_WHEN = 'BEFORE' THEN -1 ELSE 1 END;
    target uuid := CASE WHEN TG_WHEN = 'BEFORE' THEN OLD.id ELSE NEW.id END;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}') AND NEW.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}')
           AND run_rollup_facts(OLD) IS NOT DISTINCT FROM run_rollup_facts(NEW) THEN
            RETURN NEW;  -- final and staying final, counted with the same figures: nothing to re-count
        END IF;
    END IF;
    -- A BEFORE trigger reads the row as it was; an AFTER trigger reads it as it is now.
    PERFORM capture_run_rollup(ARRAY[target], sign);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD WHEN TG_WHEN = 'BEFORE' THEN NEW END;
END $$;

-- What a run is counted with: a change to any of these re-counts a final run that stays final.
CREATE OR REPLACE FUNCTION run_rollup_facts(r runs) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN
    RETURN jsonb_build_array(r.status, r.kind, r.trigger, r.namespace_id, r.pipeline_id, r.deployment_id,
                             r.error_code, r.created_by, r.created_at, r.queued_at, r.started_at, r.finished_at,
                             r.progress);
END $$;

DROP TRIGGER IF EXISTS runs_rollup_retract ON runs;
DROP TRIGGER IF EXISTS runs_rollup_count ON runs;
DROP TRIGGER IF EXISTS runs_rollup_count_new ON runs;
DROP TRIGGER IF EXISTS runs_rollup_forget ON runs;

-- A final run stops being final, or may change its figures (the function decides): retract what it counted.
CREATE TRIGGER runs_rollup_retract BEFORE UPDATE ON runs FOR EACH ROW
WHEN (OLD.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}'))
EXECUTE FUNCTION capture_run_rollup_change();

-- A run becomes final, or a final run may change its figures: count it. A run that becomes final inside
-- finish_runs is counted by finish_runs itself, once for its whole batch (conveyor.finish_runs_captures is
-- 'on' only around its UPDATE): see sql/functions/run_transitions.sql.
CREATE TRIGGER runs_rollup_count AFTER UPDATE ON runs FOR EACH ROW
WHEN (NEW.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}')
      AND (OLD.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}')
           OR current_setting('conveyor.finish_runs_captures', true) IS DISTINCT FROM 'on'))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_count_new AFTER INSERT ON runs FOR EACH ROW
WHEN (NEW.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}'))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_forget BEFORE DELETE ON runs FOR EACH ROW
WHEN (OLD.status = ANY ('{SUCCEEDED,FAILED,CANCELLED,TIMED_OUT,SKIPPED}'))
EXECUTE FUNCTION capture_run_rollup_change();
"""
#: sql/functions/run_transitions.sql as this revision made it (its status lists as they were then).
TRANSITIONS = """
-- The two hot transitions of a worker process (start_runs and finish_runs in sql/queries/runs.sql), as
-- functions: their statements are planned once per connection and kept (a generic plan), instead of being
-- parsed and planned again for every batch. Planning these CTEs cost more than running them: a batch of a few
-- runs is planned in ~0.3 ms and executed in less, and for small batches Postgres keeps choosing a fresh
-- custom plan even for a prepared statement (its estimate for an array of 3 ids beats the generic one's).
-- The plan is made once, often while the table is small and before it was ever analysed: on statistics like
-- those a generic plan reads the whole table (a seq scan, a hash join), and it would be kept as the table grows.
-- Every row these statements touch is found by primary key, so the functions plan without seq scans, hash
-- or merge joins: a few index probes per run at any table size. The SET clauses apply to the functions' own
-- statements and the triggers they fire (whose statements also find their rows by key).
-- Same conditions, locks (in id order), events and results as the statements were.

CREATE OR REPLACE FUNCTION start_runs(p_run_ids uuid[], p_worker_id text, p_from_statuses text[])
RETURNS TABLE (
    id uuid, namespace_id uuid, kind varchar, dataset_id uuid, deployment_id uuid, inputs jsonb,
    scheduled_for timestamptz, pipeline_id uuid, pipeline_version int, params jsonb, attempt int, attempt_base int,
    max_retries int, retry_backoff_seconds float8, retry_backoff_max_seconds float8, retry_jitter float8,
    timeout_seconds int, priority smallint, log_lines int, started_at timestamptz, from_status varchar, spec jsonb
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH prev AS (
        SELECT r.id, r.status FROM runs r WHERE r.id = ANY(p_run_ids) ORDER BY r.id FOR UPDATE
    ), started AS (
        UPDATE runs r
        SET status = 'RUNNING', attempt = r.attempt + 1, started_at = now(), heartbeat_at = now(),
            worker_id = p_worker_id, finished_at = NULL, next_retry_at = NULL, error_code = NULL,
            error_message = NULL
        FROM prev
        WHERE r.id = prev.id AND prev.status = ANY(p_from_statuses) AND r.cancel_requested_at IS NULL
        RETURNING r.id, r.namespace_id, r.kind, r.dataset_id, r.deployment_id, r.inputs, r.scheduled_for,
                  r.pipeline_id, r.pipeline_version, r.params, r.attempt, r.attempt_base, r.max_retries,
                  r.retry_backoff_seconds, r.retry_backoff_max_seconds, r.retry_jitter, r.timeout_seconds,
                  r.priority, r.log_lines, r.started_at, prev.status AS from_status
    ), event AS (
        INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
        SELECT s.id, s.from_status, 'RUNNING', 'started', p_worker_id, s.attempt FROM started s
    )
    SELECT s.*, v.spec
    FROM started s
    LEFT JOIN pipeline_versions v ON v.pipeline_id = s.pipeline_id AND v.version = s.pipeline_version;
END $$;

-- A batch's own captures: the rollup trigger (run_rollup_capture.sql) and the webhook trigger
-- (webhook_capture.sql) each ran one statement per finished run, started anew per row (a sixth of a
-- worker's Postgres CPU). While conveyor.finish_runs_captures is 'on' (only around this function's UPDATE;
-- a setting local to the transaction, so an error unwinds it) they skip the runs this UPDATE makes final
-- or concluded, and the function captures exactly those, for the whole batch at once, with the same
-- statements: the rollup from run_partials (+1 per run, read after the UPDATE, as the trigger read it) and
-- each concluded run's deliveries (enqueue_run_webhooks) where its namespace has an enabled subscription.
CREATE OR REPLACE FUNCTION finish_runs(
    p_run_ids uuid[], p_attempts int[], p_to_statuses text[], p_from_statuses text[], p_error_codes text[],
    p_error_messages text[], p_progress text[], p_log_lines int[], p_reasons text[], p_actors text[],
    p_details text[], p_log_run_ids uuid[], p_log_attempts int[], p_log_first_n int[], p_log_last_n int[],
    p_log_chunks bytea[]
)
RETURNS TABLE (id uuid, attempt int, status varchar, finished_at timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
DECLARE
    done_ids uuid[];
    done_attempts int[];
    done_statuses varchar[];
    done_finished timestamptz[];
    made_final uuid[];
    concluded uuid[];
BEGIN
    PERFORM set_config('conveyor.finish_runs_captures', 'on', true);
    WITH input AS (
        SELECT *
        FROM unnest(p_run_ids, p_attempts, p_to_statuses, p_from_statuses, p_error_codes, p_error_messages,
                    p_progress, p_log_lines, p_reasons, p_actors, p_details)
             AS i(id, attempt, to_status, from_statuses, error_code, error_message, progress, log_lines, reason,
                  actor, details)
    ), prev AS (
        SELECT r.id, r.attempt, r.status FROM runs r JOIN input i ON i.id = r.id AND i.attempt = r.attempt
        ORDER BY r.id
        FOR UPDATE OF r
    ), done AS (
        UPDATE runs r
        SET status = i.to_status, finished_at = now(), heartbeat_at = NULL, error_code = i.error_code,
            error_message = i.error_message, progress = coalesce(CAST(i.progress AS jsonb), r.progress),
            log_lines = greatest(r.log_lines, coalesce(i.log_lines, 0))
        FROM prev JOIN input i ON i.id = prev.id AND i.attempt = prev.attempt
        WHERE r.id = prev.id AND prev.status = ANY(string_to_array(i.from_statuses, ','))
        RETURNING r.id, r.attempt, r.status, r.finished_at, prev.status AS from_status, i.reason, i.actor, i.details,
                  r.namespace_id
    ), logged AS (
        -- each attempt's last log lines, durable exactly when its outcome is (none when prev found no such attempt)
        INSERT INTO run_log_chunks (run_id, first_n, last_n, lines)
        SELECT c.run_id, c.first_n, c.last_n, c.lines
        FROM unnest(p_log_run_ids, p_log_attempts, p_log_first_n, p_log_last_n, p_log_chunks)
             AS c(run_id, attempt, first_n, last_n, lines)
        JOIN prev ON prev.id = c.run_id AND prev.attempt = c.attempt
        ON CONFLICT (run_id, first_n) DO NOTHING
    ), event AS (
        INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt, details)
        SELECT d.id, d.from_status, d.status, d.reason, d.actor, d.attempt, CAST(d.details AS jsonb) FROM done d
    )
    SELECT array_agg(d.id), array_agg(d.attempt), array_agg(d.status), array_agg(d.finished_at),
           -- the runs the triggers skipped: exactly those their WHEN clauses would have taken (and, of the
           -- concluded ones, those capture_run_webhook would have written deliveries for)
           array_agg(d.id) FILTER (WHERE d.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED') AND d.from_status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED')),
           array_agg(d.id) FILTER (WHERE d.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT') AND d.from_status IS DISTINCT FROM d.status
                                     AND EXISTS (SELECT FROM webhook_subscriptions s
                                                 WHERE s.namespace_id = d.namespace_id AND s.enabled))
    INTO done_ids, done_attempts, done_statuses, done_finished, made_final, concluded
    FROM done d;
    PERFORM set_config('conveyor.finish_runs_captures', 'off', true);
    IF made_final IS NOT NULL THEN
        PERFORM capture_run_rollup(made_final, 1);
    END IF;
    IF concluded IS NOT NULL THEN
        PERFORM enqueue_run_webhooks(r) FROM runs r WHERE r.id = ANY(concluded) ORDER BY r.id;
    END IF;
    RETURN QUERY SELECT * FROM unnest(done_ids, done_attempts, done_statuses, done_finished);
END $$;
"""


def _checks(condition: str) -> None:
    """runs' CHECKs on status, kind and trigger replaced; `condition` is how a column tests its values."""
    for column, values in CHECKS.items():
        array = "'{" + ",".join(values) + "}'"
        test = condition.format(column=column, array=array, items=", ".join(f"'{v}'" for v in values))
        op.execute(f"ALTER TABLE runs DROP CONSTRAINT ck_runs_{column}")
        op.execute(f"ALTER TABLE runs ADD CONSTRAINT ck_runs_{column} CHECK ({test}) NOT VALID")
        op.execute(f"ALTER TABLE runs VALIDATE CONSTRAINT ck_runs_{column}")


def upgrade() -> None:
    op.execute(WEBHOOK_CAPTURE)
    op.execute(ROLLUP_CAPTURE)
    op.execute(TRANSITIONS)
    _checks("{column} = ANY ({array})")


def downgrade() -> None:
    _checks("{column} IN ({items})")
    previous = runpy.run_path(str(HERE / "0016_cheaper_transitions.py"))
    op.execute(previous["TRANSITIONS"])
    op.execute(previous["ROLLUP_CAPTURE"])
    op.execute(previous["WEBHOOK_CAPTURE"])
    op.execute("DROP FUNCTION IF EXISTS enqueue_run_webhooks(runs)")
    op.execute("DROP FUNCTION IF EXISTS capture_run_rollup(uuid[], int)")
