-- The hourly run rollup (see sql/functions/run_rollup_capture.sql): the scheduler folds the queue of
-- counted and taken-back runs into the rollup tables, a batch per transaction.

-- name: fold_run_rollup_changes
-- Moves the oldest :batch queued changes into run_rollup, run_latency_rollup and run_totals in one
-- statement, so a reader sees each change either in the queue or in the rollup, never both or neither.
-- The caller holds an advisory lock, so one scheduler folds at a time; rows are upserted in key order.
-- The batch is picked once (MATERIALIZED): as an IN (...) subquery a nested-loop plan rescans it, and each rescan
-- skips the rows this statement already deleted and locks the next batch, so one fold could take the whole queue.
WITH picked AS MATERIALIZED (
    SELECT id FROM run_rollup_changes ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED
), taken AS (
    DELETE FROM run_rollup_changes WHERE id IN (SELECT id FROM picked)
    RETURNING *
), counted AS (
    INSERT INTO run_rollup AS t (hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code,
                                 created_by, runs, duration_n, duration_sum, wait_n, wait_sum, rows_sum, bytes_sum)
    SELECT hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           sum(runs), sum(duration_n), sum(duration_sum), sum(wait_n), sum(wait_sum), sum(rows_sum), sum(bytes_sum)
    FROM taken
    GROUP BY hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by
    ORDER BY hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by
    ON CONFLICT (hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by)
    DO UPDATE SET runs = t.runs + EXCLUDED.runs, duration_n = t.duration_n + EXCLUDED.duration_n,
                  duration_sum = t.duration_sum + EXCLUDED.duration_sum, wait_n = t.wait_n + EXCLUDED.wait_n,
                  wait_sum = t.wait_sum + EXCLUDED.wait_sum, rows_sum = t.rows_sum + EXCLUDED.rows_sum,
                  bytes_sum = t.bytes_sum + EXCLUDED.bytes_sum
    RETURNING t.hour, t.runs
), binned AS (
    SELECT hour, namespace_id, kind, pipeline_id, deployment_id, 'duration' AS measure, duration_bin AS bin,
           duration_n AS n
    FROM taken WHERE duration_bin IS NOT NULL
    UNION ALL
    SELECT hour, namespace_id, kind, pipeline_id, deployment_id, 'queue_wait', wait_bin, wait_n
    FROM taken WHERE wait_bin IS NOT NULL
), grains AS (
    -- Each bin at three grains: per kind, per pipeline, per deployment (see app/db/rollups.py).
    SELECT hour, namespace_id, g.grain, kind,
           CASE WHEN g.grain <> 'kind' THEN pipeline_id END AS pipeline_id,
           CASE WHEN g.grain = 'deployment' THEN deployment_id END AS deployment_id, measure, bin, n
    FROM binned CROSS JOIN (VALUES ('kind'), ('pipeline'), ('deployment')) AS g(grain)
), latencies AS (
    INSERT INTO run_latency_rollup AS t (hour, namespace_id, grain, kind, pipeline_id, deployment_id, measure, bin, n)
    SELECT hour, namespace_id, grain, kind, pipeline_id, deployment_id, measure, bin, sum(n)
    FROM grains
    GROUP BY hour, namespace_id, grain, kind, pipeline_id, deployment_id, measure, bin
    ORDER BY hour, namespace_id, grain, kind, pipeline_id, deployment_id, measure, bin
    ON CONFLICT (hour, namespace_id, grain, kind, pipeline_id, deployment_id, measure, bin)
    DO UPDATE SET n = t.n + EXCLUDED.n
    RETURNING t.hour, t.n
), totals AS (
    INSERT INTO run_totals AS t (namespace_id, kind, status, runs)
    SELECT namespace_id, kind, status, sum(runs) FROM taken
    GROUP BY namespace_id, kind, status ORDER BY namespace_id, kind, status
    ON CONFLICT (namespace_id, kind, status) DO UPDATE SET runs = t.runs + EXCLUDED.runs
)
SELECT (SELECT count(*) FROM taken) AS folded,
       ARRAY(SELECT hour FROM counted WHERE runs = 0 UNION SELECT hour FROM latencies WHERE n = 0) AS emptied_hours;

-- name: drop_empty_rollup_rows
-- Rows a fold brought to zero (a run retried by hand, or deleted): gone, so a breakdown does not list them.
WITH counts AS (
    DELETE FROM run_rollup WHERE hour = ANY(CAST(:hours AS timestamptz[])) AND runs = 0
), latencies AS (
    DELETE FROM run_latency_rollup WHERE hour = ANY(CAST(:hours AS timestamptz[])) AND n = 0
)
DELETE FROM run_totals WHERE runs = 0;

-- name: rebuild_run_rollup
-- Empties the rollup and queues every final run again (`conveyor rollup rebuild`): for after a restore,
-- or if the rollup is ever in doubt.
WITH cleared AS (
    DELETE FROM run_rollup
), cleared_latencies AS (
    DELETE FROM run_latency_rollup
), cleared_totals AS (
    DELETE FROM run_totals
), cleared_changes AS (
    DELETE FROM run_rollup_changes
), queued AS (
    INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id,
                                    error_code, created_by, runs, duration_n, duration_sum, wait_n, wait_sum,
                                    rows_sum, bytes_sum, duration_bin, wait_bin)
    SELECT run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           runs, duration_n, duration_sum, wait_n, wait_sum, rows_sum, bytes_sum, duration_bin, wait_bin
    FROM run_partials WHERE final
    RETURNING 1
)
SELECT count(*) FROM queued;

-- name: rollup_fold_lock
-- One fold at a time across schedulers: two folds upserting the same rollup
-- rows could deadlock. False when another scheduler is folding.
SELECT pg_try_advisory_xact_lock(hashtext('conveyor.run_rollup.fold'));

-- name: rollup_rebuild_lock
-- A rebuild waits for a fold in progress, and no fold starts until it commits.
SELECT pg_advisory_xact_lock(hashtext('conveyor.run_rollup.fold'));

-- name: vacuum_rollup
-- After a rebuild the queue took and gave back every run: reclaim it now rather than at the next autovacuum.
-- VACUUM runs outside a transaction: the caller's connection is in AUTOCOMMIT.
VACUUM ANALYZE run_rollup_changes, run_rollup, run_latency_rollup, run_totals;
