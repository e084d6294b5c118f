-- Operational gauges for GET /metrics (Prometheus): cheap, index-backed, read at each scrape.

-- name: runs_by_status_kind
-- Finished runs from run_totals (kept by the rollup fold) and
-- those queued for it, plus unfinished runs counted live: no scan of every run at each scrape.
SELECT status, kind, sum(runs) AS runs
FROM (
    SELECT status, kind, runs FROM run_totals
    UNION ALL
    SELECT status, kind, runs FROM run_rollup_changes
    UNION ALL
    SELECT status, kind, 1 FROM runs WHERE status IN ({{ACTIVE}})
) counted
GROUP BY status, kind
HAVING sum(runs) <> 0;

-- name: ops_gauges
-- outbox lag: age of the oldest due row not sent yet; scheduler lag: how late the most overdue deployment
-- is; live workers: workers with a fresh heartbeat on a running attempt; imported bytes: raw bytes imported;
-- rollup backlog: finished runs not folded into the metrics rollup yet (counted up to 100,000).
SELECT
    coalesce((SELECT extract(epoch FROM now() - min(available_at)) FROM outbox WHERE available_at <= now()), 0)
        AS outbox_lag_seconds,
    coalesce((SELECT extract(epoch FROM now() - min(next_run_at)) FROM deployments
              WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= now()), 0) AS scheduler_lag_seconds,
    (SELECT count(DISTINCT worker_id) FROM runs
     WHERE status = 'RUNNING' AND heartbeat_at > now() - make_interval(secs => :lease_seconds)) AS live_workers,
    (SELECT coalesce(sum(source_bytes), 0) FROM dataset_facts WHERE source = 'uploaded') AS imported_bytes,
    (SELECT count(*) FROM (SELECT 1 FROM run_rollup_changes LIMIT 100000) queued) AS rollup_backlog;

-- name: queues_in_use
-- The queues runs wait in or were sent to and have not finished: each gets a depth figure.
SELECT queue FROM outbox
UNION
SELECT broker_queue FROM runs WHERE status IN ({{DISPATCHED}}) AND broker_queue IS NOT NULL;

-- name: runs_now_by_status
-- The dashboard's "now": unfinished runs by status (not windowed), in the namespaces the caller may see
-- (:visible, a uuid[]; NULL for every namespace).
SELECT status, count(*) AS runs
FROM runs
WHERE status IN ({{ACTIVE}})
  AND (CAST(:visible AS uuid[]) IS NULL OR namespace_id = ANY(CAST(:visible AS uuid[])))
GROUP BY status;

-- name: metric_labels_pipeline
-- Names for the ids a breakdown or series lists (:ids, a uuid[]), one query per dimension.
SELECT CAST(id AS text), name FROM pipelines WHERE id = ANY(CAST(:ids AS uuid[]));

-- name: metric_labels_deployment
SELECT CAST(id AS text), name FROM deployments WHERE id = ANY(CAST(:ids AS uuid[]));

-- name: metric_labels_user
SELECT CAST(id AS text), username FROM users WHERE id = ANY(CAST(:ids AS uuid[]));

-- name: metric_labels_dataset
SELECT CAST(id AS text), name FROM datasets WHERE id = ANY(CAST(:ids AS uuid[]));
