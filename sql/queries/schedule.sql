-- The schedule loop: due deployments, active-run counts, and releasing held runs.

-- name: claim_due_deployments
-- Enabled deployments whose next fire time has come, oldest first. SKIP LOCKED
-- lets several schedulers share the table; each row is handled by one of them.
SELECT d.*, p.latest_version
FROM deployments d JOIN pipelines p ON p.id = d.pipeline_id
WHERE d.enabled AND d.next_run_at IS NOT NULL AND d.next_run_at <= :now
ORDER BY d.next_run_at
LIMIT :batch
FOR UPDATE OF d SKIP LOCKED;

-- name: active_runs
-- Unfinished runs per deployment: those that count against max_concurrent_runs, and those held back.
SELECT deployment_id,
       count(*) FILTER (WHERE NOT held) AS active,
       count(*) FILTER (WHERE held) AS held
FROM runs
WHERE deployment_id = ANY(CAST(:ids AS uuid[])) AND status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRYING')
GROUP BY deployment_id;

-- name: insert_occurrences
INSERT INTO occurrences (deployment_id, scheduled_for, outcome, run_id, reason)
SELECT deployment_id, scheduled_for, outcome, run_id, reason
FROM jsonb_to_recordset(CAST(:rows AS jsonb))
     AS x(deployment_id uuid, scheduled_for timestamptz, outcome text, run_id uuid, reason text)
ON CONFLICT (deployment_id, scheduled_for) DO NOTHING;

-- name: advance_deployments
UPDATE deployments d
SET next_run_at = x.next_run_at, last_scheduled_for = x.last_scheduled_for
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(id uuid, next_run_at timestamptz, last_scheduled_for timestamptz)
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
             AND a.status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRYING')) < d.max_concurrent_runs
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
-- cooperatively if running) before its new run starts.
WITH prev AS (
    SELECT id, status FROM runs
    WHERE deployment_id = ANY(CAST(:ids AS uuid[])) AND NOT held
      AND status IN ('PENDING', 'QUEUED', 'RETRYING', 'RUNNING')
    ORDER BY id FOR UPDATE
), cancelled AS (
    UPDATE runs r
    SET status = 'CANCELLED', finished_at = now(), error_code = 'cancelled',
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
