"""Occurrences say why as a stable code everywhere they are shown: the fire_times view and the
deployment.misfired / deployment.run_skipped webhooks carry `reason_code` (0021) beside `reason`. And run_facts as
sql/views/run_facts.sql reads today: a run cancelled while queued for a retry has no queue wait, and
progress_count casts jsonb numbers straight to numeric.

Those run_facts edits were made after 0010 without a revision; 0010 read the file when applied, so only a
database built after them had them. 0010 now applies its own copy, and this revision brings every database to
the file. Where that changes the view (a queue wait it no longer counts), the hourly rollup, which holds the
figures the old view gave, is rebuilt from it as 0011 built it (and again on the way down).

The views and the webhook capture are applied as this revision made them (RUN_FACTS, FIRE_TIMES,
WEBHOOK_CAPTURE): the SQL is this file's own, it reads nothing under sql/.

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

#: sql/views/fire_times.sql as this revision made it.
FIRE_TIMES = """
-- Every fire time of every deployment and what became of it: the run it made (with the run's status and
-- lateness), or the reason it made none. "Why didn't it run?" is one query on this view. A long downtime's
-- missed fire times are one row: `fire_times` of them, from `first_scheduled_for` to `scheduled_for`.
-- `reason_code` is why as a stable code (app/scheduling/reasons.py); `reason` is the English detail.
CREATE OR REPLACE VIEW fire_times AS
SELECT o.deployment_id,
       d.name AS deployment,
       d.namespace_id,
       o.scheduled_for,
       o.outcome,
       o.reason,
       o.run_id,
       r.status AS run_status,
       extract(epoch FROM r.queued_at - o.scheduled_for) AS lateness_seconds,
       o.recorded_at,
       o.first_scheduled_for,
       o.fire_times,
       o.reason_code
FROM occurrences o
JOIN deployments d ON d.id = o.deployment_id
LEFT JOIN runs r ON r.id = o.run_id;
"""
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
            'reason_code', NEW.reason_code,
            'fire_times', NEW.fire_times, 'first_scheduled_for', NEW.first_scheduled_for,
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
    op.execute(FIRE_TIMES)  # reason_code is a new last column: the view is replaced in place
    op.execute(WEBHOOK_CAPTURE)


def downgrade() -> None:
    before = _previous("0019_occurrence_ranges")
    op.execute(before["WEBHOOK_CAPTURE"])
    op.execute("DROP VIEW IF EXISTS fire_times")  # a column cannot be dropped by CREATE OR REPLACE VIEW
    op.execute(before["FIRE_TIMES"])
    _replace_run_facts(_previous("0010_runs_created_by")["RUN_FACTS"])
