-- The schedule loop: due deployments, active-run counts, and releasing held runs.

-- name: claim_due_deployments
-- Enabled deployments whose next fire time is within :now (the tick's time plus
-- the lookahead), oldest first. SKIP LOCKED lets several schedulers share the
-- table; each row is handled by one of them. Every column but the last is what a plan depends on; the
-- timeout is read only to refuse, as run_row does, one past the instance bound (insert_scheduled_runs takes
-- the rest of the runs' fields from the deployment itself).
SELECT d.id, CAST(d.schedule AS text) AS schedule_json, d.dst_gap, d.dst_fold, d.start_at, d.end_at,
       d.created_at, d.last_scheduled_for, d.misfire_policy, d.misfire_grace_seconds, d.max_catch_up,
       d.max_concurrent_runs, d.overlap_policy, d.next_run_at, d.timeout_seconds
FROM deployments d
WHERE d.enabled AND d.next_run_at IS NOT NULL AND d.next_run_at <= :now
ORDER BY d.next_run_at
LIMIT :batch
FOR UPDATE OF d SKIP LOCKED;

-- name: insert_scheduled_runs
-- The schedule loop's runs: one per (deployment, fire time), the rest of each row taken from its deployment
-- (claimed, so locked, in this transaction) and its pipeline, with the instance defaults from
-- app.domain.run_rows.run_defaults for what the deployment leaves unset, the same fields run_row gives a
-- triggered or backfilled run. Otherwise as insert_runs: a fire time that already has a run is not inserted
-- again, the outbox row is due at the fire time (a run planned ahead waits, PENDING), a held run (overlap
-- buffer) gets no outbox row until it is released, and the relay is woken.
WITH input AS (
    SELECT *
    FROM json_to_recordset(CAST(:rows AS json)) AS x(id uuid, deployment_id uuid, scheduled_for timestamptz, held boolean)
), inserted AS (
    INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version, deployment_id,
                      scheduled_for, params, priority, max_retries, retry_backoff_seconds,
                      retry_backoff_max_seconds, retry_jitter, timeout_seconds, held, created_by)
    SELECT x.id, d.namespace_id, :kind, :trigger, 'PENDING', d.pipeline_id,
           coalesce(d.pipeline_version, p.latest_version), d.id, x.scheduled_for, coalesce(d.params, '{}'::jsonb),
           0, coalesce(d.max_retries, CAST(:max_retries AS int)),
           coalesce(d.retry_backoff_seconds, CAST(:retry_backoff_seconds AS float8)),
           coalesce(d.retry_backoff_max_seconds, CAST(:retry_backoff_max_seconds AS float8)),
           coalesce(d.retry_jitter, CAST(:retry_jitter AS float8)),
           coalesce(nullif(d.timeout_seconds, 0), CAST(:timeout_seconds AS int)), x.held, d.created_by
    FROM input x JOIN deployments d ON d.id = x.deployment_id JOIN pipelines p ON p.id = d.pipeline_id
    ON CONFLICT (deployment_id, scheduled_for) WHERE trigger IN ('schedule', 'backfill') DO NOTHING
    RETURNING id, held, scheduled_for
), events AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor)
    SELECT id, NULL, 'PENDING', CASE WHEN held THEN 'created_held' ELSE 'created' END, :actor FROM inserted
), outbox_rows AS (
    INSERT INTO outbox (run_id, queue, priority, available_at)
    SELECT id, :queue, 0, greatest(scheduled_for, now()) FROM inserted WHERE NOT held
), wake AS (
    SELECT pg_notify('conveyor_outbox', '')
)
SELECT count(*) FROM inserted, wake;

-- name: database_now
-- The time the scheduler's loop ticks with: the database's clock, which the outbox (available_at) and the
-- reaper go by too, the same for every replica whatever their hosts' clocks say.
SELECT clock_timestamp();

-- name: next_due_deployment
-- The earliest fire time left to handle among enabled deployments, read after a tick: until it is within the
-- lookahead (or a change NOTIFYs conveyor_deployments) the service's wake-ups claim nothing.
SELECT min(next_run_at) FROM deployments WHERE enabled AND next_run_at IS NOT NULL;

-- name: active_runs
-- Unfinished runs per deployment: those that count against max_concurrent_runs, and those held back.
SELECT deployment_id,
       count(*) FILTER (WHERE NOT held) AS active,
       count(*) FILTER (WHERE held) AS held
FROM runs
WHERE deployment_id = ANY(CAST(:ids AS uuid[])) AND status IN ({{ACTIVE}})
GROUP BY deployment_id;

-- name: withdraw_planned_runs
-- A deployment paused, changed or deleted takes back the runs planned ahead for
-- fire times still to come (PENDING, never sent) and those fire times'
-- occurrences; the loop plans them again from the deployment as it is now.
-- Callers hold the deployment's row lock, so the loop cannot plan meanwhile.
WITH withdrawn AS (
    DELETE FROM runs
    WHERE deployment_id = :deployment_id AND trigger = 'schedule' AND status = 'PENDING'
      AND queued_at IS NULL AND scheduled_for > :now
    RETURNING id
)
DELETE FROM occurrences
WHERE deployment_id = :deployment_id AND scheduled_for > :now
RETURNING scheduled_for, (SELECT count(*) FROM withdrawn) AS runs;

-- name: insert_occurrences
INSERT INTO occurrences (deployment_id, scheduled_for, outcome, run_id, reason, reason_code)
SELECT deployment_id, scheduled_for, outcome, run_id, reason, reason_code
FROM json_to_recordset(CAST(:rows AS json))
     AS x(deployment_id uuid, scheduled_for timestamptz, outcome text, run_id uuid, reason text, reason_code text)
ON CONFLICT (deployment_id, scheduled_for) DO NOTHING;

-- name: record_missed_ranges
-- A long run of missed fire times (misfire_skipped or coalesced) as one row: `fire_times` of them, from `first`
-- to `last` (its scheduled_for). A range that goes on from the deployment's last handled fire time (`previous`,
-- the end of a range the tick before wrote, a long downtime being planned chunk by chunk) extends that row, so a
-- whole downtime is one row however long it was.
WITH x AS (
    SELECT *
    FROM json_to_recordset(CAST(:rows AS json)) AS x(deployment_id uuid, first timestamptz, last timestamptz,
                                                     previous timestamptz, fire_times int, outcome text, reason text,
                                                     reason_code text)
), extended AS (
    UPDATE occurrences o
    SET scheduled_for = x.last, fire_times = o.fire_times + x.fire_times, reason = x.reason,
        reason_code = x.reason_code
    FROM x
    WHERE o.deployment_id = x.deployment_id AND o.scheduled_for = x.previous AND o.outcome = x.outcome
      AND o.first_scheduled_for IS NOT NULL
    RETURNING o.deployment_id
)
INSERT INTO occurrences (deployment_id, scheduled_for, outcome, run_id, reason, reason_code, fire_times,
                         first_scheduled_for)
SELECT x.deployment_id, x.last, x.outcome, NULL, x.reason, x.reason_code, x.fire_times, x.first
FROM x
WHERE x.deployment_id NOT IN (SELECT deployment_id FROM extended)
ON CONFLICT (deployment_id, scheduled_for) DO NOTHING;

-- name: advance_deployments
UPDATE deployments d
SET next_run_at = x.next_run_at, last_scheduled_for = x.last_scheduled_for
FROM json_to_recordset(CAST(:rows AS json)) AS x(id uuid, next_run_at timestamptz, last_scheduled_for timestamptz)
WHERE d.id = x.id;

-- name: release_held_runs
-- A held run (overlap buffer) is sent once its deployment has a free slot: the oldest first, one per pass.
WITH candidates AS (
    SELECT deployment_id, min(scheduled_for) AS first_held
    FROM runs WHERE held AND status = 'PENDING'
    GROUP BY deployment_id
), free AS (
    SELECT c.deployment_id, c.first_held
    FROM candidates c JOIN deployments d ON d.id = c.deployment_id
    WHERE (SELECT count(*) FROM runs a
           WHERE a.deployment_id = c.deployment_id AND NOT a.held
             AND a.status IN ({{ACTIVE}})) < d.max_concurrent_runs
), released AS (
    UPDATE runs r SET held = false
    FROM free f
    WHERE r.deployment_id = f.deployment_id AND r.scheduled_for = f.first_held AND r.held AND r.status = 'PENDING'
    RETURNING r.id, r.priority
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor)
    SELECT id, 'PENDING', 'PENDING', 'released', :actor FROM released
), outbox_rows AS (
    INSERT INTO outbox (run_id, queue, priority) SELECT id, :queue, priority FROM released
)
SELECT id FROM released;

-- name: cancel_deployment_runs
-- Overlap policy cancel_running: a deployment's unfinished runs are cancelled (at once if not started,
-- cooperatively if running) before its new run starts. Runs still held by a buffer policy the deployment
-- had before are unfinished runs too: left, they would be released beside the new run.
WITH prev AS (
    SELECT id, status FROM runs
    WHERE deployment_id = ANY(CAST(:ids AS uuid[]))
      AND status IN ({{ACTIVE}})
    ORDER BY id FOR UPDATE
), cancelled AS (
    UPDATE runs r
    SET status = 'CANCELLED', held = false, finished_at = now(), error_code = 'cancelled',
        error_message = 'cancelled by the overlap policy cancel_running', next_retry_at = NULL
    FROM prev WHERE r.id = prev.id AND prev.status = ANY(:from_statuses)
    RETURNING r.id, r.attempt, prev.status AS from_status
), asked AS (
    UPDATE runs r SET cancel_requested_at = now()
    FROM prev WHERE r.id = prev.id AND prev.status = 'RUNNING' AND r.cancel_requested_at IS NULL
    RETURNING r.id, r.attempt
), events AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
    SELECT id, from_status, 'CANCELLED', 'overlap_cancel_running', :actor, attempt FROM cancelled
    UNION ALL
    SELECT id, 'RUNNING', 'RUNNING', 'overlap_cancel_running', :actor, attempt FROM asked
)
SELECT id FROM cancelled;

-- name: wake_schedulers
-- A deployment changed: the schedule loops listening on conveyor_deployments
-- replan at once instead of at their next tick (delivered at commit).
SELECT pg_notify('conveyor_deployments', '');
