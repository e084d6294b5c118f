-- The reaper: lost workers and messages the broker no longer holds.

-- name: claim_lost_runs
-- RUNNING attempts whose heartbeat is older than the lease.
SELECT id, attempt, attempt_base, max_retries, retry_backoff_seconds, retry_backoff_max_seconds,
       retry_jitter, worker_id, heartbeat_at
FROM runs
WHERE status = 'RUNNING' AND heartbeat_at < now() - make_interval(secs => :lease_seconds)
ORDER BY heartbeat_at
LIMIT :batch
FOR UPDATE SKIP LOCKED;

-- name: claim_unstarted_runs
-- QUEUED runs whose message left a while ago and that have not started, with
-- the broker id of their last message, to ask the broker whether it has it.
SELECT r.id, r.priority, r.attempt, last.broker_message_id, last.queue
FROM runs r
LEFT JOIN LATERAL (
    SELECT broker_message_id, queue FROM outbox
    WHERE run_id = r.id AND dispatched_at IS NOT NULL
    ORDER BY id DESC LIMIT 1
) last ON true
WHERE r.status = 'QUEUED' AND r.dispatched_at < now() - make_interval(secs => :older_than_seconds)
ORDER BY r.dispatched_at
LIMIT :batch
FOR UPDATE OF r SKIP LOCKED;

-- name: touch_dispatched
-- The broker still holds these runs' messages: look again later.
UPDATE runs SET dispatched_at = now() WHERE id = ANY(CAST(:run_ids AS uuid[])) AND status = 'QUEUED';

-- name: resend_runs
-- The broker lost these runs' messages: a new outbox row each, and a note in
-- the run's events (QUEUED → QUEUED, reason message_resent).
WITH target AS (
    UPDATE runs SET dispatched_at = now()
    WHERE id = ANY(CAST(:run_ids AS uuid[])) AND status = 'QUEUED'
    RETURNING id, attempt, priority
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
    SELECT id, 'QUEUED', 'QUEUED', 'message_resent', :actor, attempt FROM target
), outbox_rows AS (
    INSERT INTO outbox (run_id, queue, priority) SELECT id, :queue, priority FROM target
), wake AS (
    SELECT pg_notify('conveyor_outbox', '')
)
SELECT target.id FROM target, wake;
