"""An occurrence may stand for a range of missed fire times, so a long downtime is recorded in a bounded number of rows.

`fire_times` (1 for a single fire time) counts the fire times a row stands for, and `first_scheduled_for` (null
for a single one) is the first of them; `scheduled_for` is the last. The views count fire times, not rows, and
the deployment.misfired / deployment.run_skipped webhooks carry both (sql/functions/webhook_capture.sql).

The views and the webhook capture are applied as this revision made them (OCCURRENCE_FACTS, FIRE_TIMES,
WEBHOOK_CAPTURE), not as the files under sql/ read today: a later edit of those files must not change what
this revision does (a later revision applies the new version).

Revision ID: 0019_occurrence_ranges
Revises: 0018_representable_times
Create Date: 2026-12-04
"""

from __future__ import annotations

import runpy
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0019_occurrence_ranges"
down_revision = "0018_representable_times"
branch_labels = None
depends_on = None

#: sql/views/occurrence_facts.sql as this revision made it.
OCCURRENCE_FACTS = """
-- One row per recorded fire time, or range of missed fire times (`fire_times` of them, the last at
-- `scheduled_for`), with its deployment's namespace: what ran, and what did not and why.
CREATE OR REPLACE VIEW occurrence_facts AS
SELECT o.deployment_id,
       d.namespace_id,
       o.scheduled_for,
       o.outcome,
       o.outcome <> 'run' AS missed,
       o.recorded_at,
       o.fire_times
FROM occurrences o
JOIN deployments d ON d.id = o.deployment_id;
"""
#: sql/views/fire_times.sql as this revision made it.
FIRE_TIMES = """
-- Every fire time of every deployment and what became of it: the run it made (with the run's status and
-- lateness), or the reason it made none. "Why didn't it run?" is one query on this view. A long downtime's
-- missed fire times are one row: `fire_times` of them, from `first_scheduled_for` to `scheduled_for`.
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
       o.fire_times
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


def upgrade() -> None:
    op.add_column("occurrences", sa.Column("first_scheduled_for", sa.DateTime(timezone=True)))
    op.add_column("occurrences", sa.Column("fire_times", sa.Integer, nullable=False, server_default=sa.text("1")))
    op.create_check_constraint(
        op.f("ck_occurrences_range"),
        "occurrences",
        "fire_times >= 1 AND (first_scheduled_for IS NULL) = (fire_times = 1)"
        " AND (first_scheduled_for IS NULL OR first_scheduled_for < scheduled_for)",
    )
    op.execute(OCCURRENCE_FACTS)
    op.execute(FIRE_TIMES)
    op.execute(WEBHOOK_CAPTURE)


def downgrade() -> None:
    op.execute(runpy.run_path(str(Path(__file__).with_name("0017_batch_captures.py")))["WEBHOOK_CAPTURE"])
    op.execute("DROP VIEW IF EXISTS occurrence_facts")
    op.execute("DROP VIEW IF EXISTS fire_times")
    op.drop_constraint(op.f("ck_occurrences_range"), "occurrences", type_="check")
    op.drop_column("occurrences", "fire_times")
    op.drop_column("occurrences", "first_scheduled_for")
    op.execute(runpy.run_path(str(Path(__file__).with_name("0008_metrics_views.py")))["VIEWS"]["occurrence_facts"])
    op.execute(runpy.run_path(str(Path(__file__).with_name("0004_fire_times_view.py")))["VIEW"])
