-- The cleanup job: files of deleted datasets and of abandoned uploads, a small batch at a time.

-- name: purgeable_datasets
-- Datasets deleted longer ago than the retention period whose files are still
-- there, with every upload they read; locked so two schedulers never race.
-- The batch is picked once (MATERIALIZED; see fold_run_rollup_changes in rollup.sql).
WITH picked AS MATERIALIZED (
    SELECT id FROM datasets WHERE deleted_at IS NOT NULL AND purged_at IS NULL
    ORDER BY deleted_at LIMIT :batch FOR UPDATE SKIP LOCKED
)
SELECT d.id,
       array_remove(array_agg(DISTINCT v.upload_id) || array_agg(DISTINCT d.upload_id), NULL) AS upload_ids
FROM datasets d LEFT JOIN dataset_versions v ON v.dataset_id = d.id
WHERE d.deleted_at < now() - make_interval(hours => :retention_hours) AND d.purged_at IS NULL
  AND d.id IN (SELECT id FROM picked)
GROUP BY d.id;

-- name: mark_datasets_purged
UPDATE datasets SET purged_at = now() WHERE id = ANY(CAST(:ids AS uuid[]));

-- name: expire_uploads
-- Resumable uploads left open past their expiry: closed, their bytes removed by the caller.
WITH picked AS MATERIALIZED (  -- picked once (see fold_run_rollup_changes in rollup.sql)
    SELECT id FROM uploads WHERE status = 'open' AND expires_at < now()
    ORDER BY expires_at LIMIT :batch FOR UPDATE SKIP LOCKED
)
UPDATE uploads SET status = 'expired'
WHERE id IN (SELECT id FROM picked)
RETURNING id;

-- name: purge_run_logs
-- Finished runs older than the log retention: their log chunks and events are
-- deleted and they are marked, in one statement; the caller removes any log
-- file left from before logs moved into Postgres.
WITH expired AS (
    SELECT id FROM runs
    WHERE finished_at IS NOT NULL AND logs_purged_at IS NULL
      AND finished_at < now() - make_interval(days => :days)
    ORDER BY finished_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), events AS (
    DELETE FROM run_events e USING expired x WHERE e.run_id = x.id
), logs AS (
    DELETE FROM run_log_chunks c USING expired x WHERE c.run_id = x.id
), marked AS (
    UPDATE runs r SET logs_purged_at = now() FROM expired x WHERE r.id = x.id RETURNING r.id
)
SELECT id FROM marked;

-- name: prune_runs
-- Finished runs older than the run retention are deleted (their outbox rows and events go with them,
-- by foreign key; their log chunks here).
WITH picked AS MATERIALIZED (  -- picked once (see fold_run_rollup_changes in rollup.sql)
    SELECT id FROM runs
    WHERE finished_at IS NOT NULL AND finished_at < now() - make_interval(days => :days)
    ORDER BY finished_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), pruned AS (
    DELETE FROM runs WHERE id IN (SELECT id FROM picked)
    RETURNING id
), logs AS (
    DELETE FROM run_log_chunks c USING pruned p WHERE c.run_id = p.id
)
SELECT id FROM pruned;

-- name: prune_webhook_deliveries
-- Finished webhook deliveries (delivered or failed) older than the retention are
-- deleted, their attempts with them (by foreign key); pending ones are never touched.
WITH picked AS MATERIALIZED (  -- picked once (see fold_run_rollup_changes in rollup.sql)
    SELECT id FROM webhook_deliveries
    WHERE status <> 'pending' AND created_at < now() - make_interval(days => :days)
    ORDER BY created_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM picked)
RETURNING id;

-- name: ended_runs_with_attempt_files
-- Ended runs that wrote (or may have written) a dataset version, in the order they ended, after the keyset cursor
-- (:after_at, :after_id) and up to :until, :batch of them; a row for each dataset the run's attempts wrote (its
-- output, and those it gave up when retried by hand: run_earlier_outputs), with the attempt whose folder the run's
-- version row there names (`kept`, null when none was published, or when its files are from before attempts had
-- folders). Read by the attempt-folder sweep (scheduler/attempt_sweep.py) through ix_runs_finished_unpurged.
WITH picked AS MATERIALIZED (
    SELECT r.id, r.dataset_id, r.attempt, r.finished_at
    FROM runs r
    WHERE r.finished_at IS NOT NULL AND r.logs_purged_at IS NULL
      AND (r.finished_at, r.id) > (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid))
      AND r.finished_at <= :until
      AND r.attempt >= 1
      AND r.status IN ({{FINAL}})
      AND (r.dataset_id IS NOT NULL OR EXISTS (SELECT 1 FROM run_earlier_outputs e WHERE e.run_id = r.id))
    ORDER BY r.finished_at, r.id
    LIMIT :batch
)
SELECT p.id, o.dataset_id, p.attempt, p.finished_at, v.attempt AS kept
FROM picked p
CROSS JOIN LATERAL (
    SELECT p.dataset_id WHERE p.dataset_id IS NOT NULL
    UNION
    SELECT e.dataset_id FROM run_earlier_outputs e WHERE e.run_id = p.id
) o (dataset_id)
LEFT JOIN dataset_versions v ON v.run_id = p.id AND v.dataset_id = o.dataset_id
ORDER BY p.finished_at, p.id, o.dataset_id;

-- name: seed_attempt_sweep
-- A pass of the attempt-folder sweep starts from :after_at the first time it runs (no-op once it has a position).
INSERT INTO attempt_sweep_positions (pass, after_at, after_id)
VALUES (:pass, :after_at, CAST('00000000-0000-0000-0000-000000000000' AS uuid))
ON CONFLICT (pass) DO NOTHING;

-- name: claim_attempt_sweep
-- The pass's position, held until the sweep's transaction ends; nothing while another scheduler holds it (it is
-- sweeping those runs now).
SELECT after_at, after_id FROM attempt_sweep_positions WHERE pass = :pass FOR UPDATE SKIP LOCKED;

-- name: move_attempt_sweep
-- The pass goes on after the run that ended at :after_at with id :after_id (by the holder of its row, or an operator
-- sending it back).
INSERT INTO attempt_sweep_positions (pass, after_at, after_id) VALUES (:pass, :after_at, CAST(:after_id AS uuid))
ON CONFLICT (pass) DO UPDATE SET after_at = excluded.after_at, after_id = excluded.after_id;
