-- The reaper: lost workers and messages the broker no longer holds.

-- name: claim_lost_runs
-- RUNNING attempts whose heartbeat is older than the lease. Nothing is judged
-- until the server has been up for a lease: while it was down no worker could
-- heartbeat, and a worker still running its attempt renews it within a lease.
-- `cancelling`: the user asked to cancel the run (read under the lock, so the
-- end decided for it is CANCELLED: app/domain/attempts.py).
SELECT id, attempt, attempt_base, max_retries, retry_backoff_seconds, retry_backoff_max_seconds,
       retry_jitter, worker_id, heartbeat_at, cancel_requested_at IS NOT NULL AS cancelling, dataset_id, kind
FROM runs
WHERE status = 'RUNNING' AND heartbeat_at < now() - make_interval(secs => :lease_seconds)
  AND pg_postmaster_start_time() < now() - make_interval(secs => :lease_seconds)
ORDER BY heartbeat_at
LIMIT :batch
FOR UPDATE SKIP LOCKED;

-- name: end_cancel_requested_unstarted
-- Runs the user asked to cancel that no start will ever take (start_runs skips
-- a run asked to cancel) and no worker runs: QUEUED or RETRYING (a run left so by
-- a retry scheduled before a cancel request was seen as it is now, by
-- app/domain/attempts.py). They end CANCELLED as a cancel of a waiting run does,
-- with their event; the relay drops a retry's outbox row it meets (dispatch_outbox
-- queues no CANCELLED run), which is not taken here: the relay locks the outbox
-- row, then the run, and the reverse order could deadlock with it. The partial index
-- ix_runs_cancel_requested_unstarted holds just these runs (none, normally).
WITH stuck AS (
    SELECT id, status FROM runs
    WHERE cancel_requested_at IS NOT NULL AND status IN ({{CANCEL_AT_ONCE}})
    ORDER BY id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), done AS (
    UPDATE runs r
    SET status = 'CANCELLED', finished_at = now(), heartbeat_at = NULL, next_retry_at = NULL,
        error_code = :error_code, error_message = :error_message
    FROM stuck
    WHERE r.id = stuck.id
    RETURNING r.id, r.attempt, stuck.status AS from_status
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt, details)
    SELECT id, from_status, 'CANCELLED', :reason, :actor, attempt, jsonb_build_object('swept', true) FROM done
)
SELECT id FROM done;

-- name: claim_unstarted_runs
-- QUEUED runs whose message left a while ago and that have not started, with
-- the broker id of their last message, to ask the broker whether it has it.
SELECT r.id, r.priority, r.attempt, r.broker_message_id, r.broker_queue AS queue
FROM runs r
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
    RETURNING id, attempt, priority, broker_queue
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
    SELECT id, 'QUEUED', 'QUEUED', 'message_resent', :actor, attempt FROM target
), outbox_rows AS (
    -- to the lane it was sent to (app/domain/lanes.py)
    INSERT INTO outbox (run_id, queue, priority) SELECT id, coalesce(broker_queue, :queue), priority FROM target
), wake AS (
    SELECT pg_notify('conveyor_outbox', '')
)
SELECT target.id FROM target, wake;

-- name: replan_unsent_runs
-- Scheduled runs planned ahead of their fire time (see schedule_lookahead_seconds)
-- that no relay sent within their deployment's misfire grace: every scheduler was
-- down at their fire time. They are taken back with their occurrences, and their
-- deployment is rewound to just before them, so the schedule loop decides those
-- fire times again as missed ones, by the misfire policy. A run created at or
-- after its fire time was judged by the misfire policy then, and is sent as is.
-- A paused deployment is not rewound (resume records only what comes after its
-- cursor): its fire times are returned, and recorded `paused` by the caller.
WITH unsent AS (
    SELECT r.id
    FROM runs r JOIN deployments d ON d.id = r.deployment_id
    WHERE r.status = 'PENDING' AND r.trigger = 'schedule' AND NOT r.held AND r.queued_at IS NULL
      AND r.scheduled_for < now() - make_interval(secs => d.misfire_grace_seconds)
      AND r.created_at < r.scheduled_for
    ORDER BY r.id
    LIMIT :batch
    FOR UPDATE OF r SKIP LOCKED
), withdrawn AS (
    DELETE FROM runs r USING unsent WHERE r.id = unsent.id
    RETURNING r.deployment_id, r.scheduled_for
), occurrences_gone AS (
    DELETE FROM occurrences o USING withdrawn w
    WHERE o.deployment_id = w.deployment_id AND o.scheduled_for = w.scheduled_for
), rewound AS (
    UPDATE deployments d
    SET last_scheduled_for = least(d.last_scheduled_for, x.first - interval '1 microsecond'),
        next_run_at = least(d.next_run_at, x.first)
    FROM (SELECT deployment_id, min(scheduled_for) AS first FROM withdrawn GROUP BY deployment_id) x
    WHERE d.id = x.deployment_id AND d.enabled
)
SELECT w.deployment_id, w.scheduled_for, d.enabled
FROM withdrawn w JOIN deployments d ON d.id = w.deployment_id;

-- name: insert_paused_occurrences
-- A paused deployment's fire times whose planned runs replan_unsent_runs took back (it deleted their
-- occurrences): recorded `paused`, as resume records the fire times that came while paused.
INSERT INTO occurrences (deployment_id, scheduled_for, outcome, run_id, reason, reason_code)
SELECT deployment_id, scheduled_for, 'paused', NULL, :reason, :reason_code
FROM json_to_recordset(CAST(:rows AS json)) AS x(deployment_id uuid, scheduled_for timestamptz)
ON CONFLICT (deployment_id, scheduled_for) DO NOTHING;

-- name: purge_idempotency_keys
-- Expired Idempotency-Keys, a batch at a time.
DELETE FROM idempotency_keys WHERE ctid IN
    (SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT :batch);
