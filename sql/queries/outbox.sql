-- The transactional outbox, moved to the broker by the relay.

-- name: claim_outbox
-- Lease a batch of due, unsent rows. SKIP LOCKED lets several relays share
-- the table; the lease lets another relay take over rows of one that died.
UPDATE outbox o
SET claimed_by = :relay_id, claimed_until = now() + make_interval(secs => :lease_seconds)
WHERE o.id IN (
    SELECT id FROM outbox
    WHERE dispatched_at IS NULL AND available_at <= now()
      AND (claimed_until IS NULL OR claimed_until < now())
    ORDER BY priority DESC, available_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
RETURNING o.id, o.run_id, o.queue, o.priority;

-- name: mark_runs_queued
-- Runs whose message is about to be sent: PENDING/RETRYING → QUEUED (with an
-- event), and every run still waiting to start gets a fresh dispatched_at.
-- Returns the runs to send; a run that was cancelled or started meanwhile is
-- not returned and its outbox row is simply closed.
WITH prev AS (
    SELECT id, status FROM runs WHERE id = ANY(CAST(:run_ids AS uuid[])) ORDER BY id FOR UPDATE
), queued AS (
    UPDATE runs r
    SET status = 'QUEUED', dispatched_at = now(), next_retry_at = NULL,
        queued_at = CASE WHEN prev.status = 'QUEUED' THEN r.queued_at ELSE now() END
    FROM prev
    WHERE r.id = prev.id AND (prev.status = ANY(:from_statuses) OR prev.status = 'QUEUED')
    RETURNING r.id, r.attempt, prev.status AS from_status
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
    SELECT id, from_status, 'QUEUED', 'dispatched', :actor, attempt FROM queued WHERE from_status <> 'QUEUED'
)
SELECT id FROM queued;

-- name: mark_outbox_dispatched
UPDATE outbox o
SET dispatched_at = now(), broker_message_id = m.message_id, claimed_until = NULL
FROM unnest(CAST(:ids AS bigint[]), CAST(:message_ids AS text[])) AS m(id, message_id)
WHERE o.id = m.id;

-- name: purge_dispatched_outbox
-- Sent rows are kept a while for inspection, then removed in small batches.
DELETE FROM outbox
WHERE id IN (
    SELECT id FROM outbox
    WHERE dispatched_at IS NOT NULL AND dispatched_at < now() - make_interval(secs => :older_than_seconds)
    LIMIT :batch
);
