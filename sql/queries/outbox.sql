-- The transactional outbox: messages still to send, moved to the broker by the relay.

-- name: dispatch_outbox
-- Take a batch of due rows (deleted: from now on the run carries its message)
-- and mark their runs QUEUED, each with a fresh broker message id, in one
-- statement; the relay sends the messages once this commits. SKIP LOCKED lets
-- several relays share a burst. A run that was cancelled or started meanwhile
-- is not queued and its row simply goes. The first row always carries how many
-- rows were taken (the run columns are NULL when none was queued).
-- The batch is picked once (MATERIALIZED): see fold_run_rollup_changes.
WITH picked AS MATERIALIZED (
    SELECT id FROM outbox
    WHERE available_at <= now()
    ORDER BY priority DESC, available_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), taken AS (
    DELETE FROM outbox o
    WHERE o.id IN (SELECT id FROM picked)
    RETURNING o.run_id, o.queue
), targets AS (
    SELECT DISTINCT ON (run_id) run_id, queue FROM taken ORDER BY run_id
), prev AS (
    SELECT r.id, r.status, t.queue
    FROM runs r JOIN targets t ON t.run_id = r.id
    ORDER BY r.id
    FOR UPDATE OF r
), queued AS (
    UPDATE runs r
    SET status = 'QUEUED', dispatched_at = now(), next_retry_at = NULL,
        queued_at = CASE WHEN prev.status = 'QUEUED' THEN r.queued_at ELSE now() END,
        broker_message_id = CAST(gen_random_uuid() AS text), broker_queue = prev.queue
    FROM prev
    WHERE r.id = prev.id AND (prev.status = ANY(:from_statuses) OR prev.status = 'QUEUED')
    RETURNING r.id, r.attempt, r.priority, r.broker_message_id, r.broker_queue, prev.status AS from_status
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
    SELECT id, from_status, 'QUEUED', 'dispatched', :actor, attempt FROM queued WHERE from_status <> 'QUEUED'
)
SELECT t.taken, q.id, q.priority, q.broker_message_id, q.broker_queue
FROM (SELECT count(*) AS taken FROM taken) t LEFT JOIN queued q ON true;

-- name: put_back_outbox
-- The broker refused a batch: its runs go back into the outbox, due again after a pause.
INSERT INTO outbox (run_id, queue, priority, available_at)
SELECT *, now() + make_interval(secs => :after_seconds)
FROM unnest(CAST(:run_ids AS uuid[]), CAST(:queues AS text[]), CAST(:priorities AS smallint[]));

-- name: outbox_due_in
-- Seconds until the next row is due (negative: due already; NULL: none): the
-- relay sleeps until then, so a run planned ahead leaves at its fire time.
SELECT extract(epoch FROM min(available_at) - clock_timestamp()) FROM outbox;

-- name: wake_relay
-- New outbox rows: the relay listening on conveyor_outbox sends them at once (delivered at commit).
SELECT pg_notify('conveyor_outbox', '');
