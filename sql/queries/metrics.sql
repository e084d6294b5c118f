-- Operational gauges for GET /metrics (Prometheus): cheap, index-backed, read at each scrape.

-- name: runs_by_status_kind
SELECT status, kind, count(*) AS runs FROM runs GROUP BY status, kind;

-- name: ops_gauges
-- outbox lag: age of the oldest due row not sent yet; scheduler lag: how late the most overdue deployment
-- is; live workers: workers with a fresh heartbeat on a running attempt; imported bytes: raw bytes imported.
SELECT
    coalesce((SELECT extract(epoch FROM now() - min(available_at)) FROM outbox WHERE available_at <= now()), 0)
        AS outbox_lag_seconds,
    coalesce((SELECT extract(epoch FROM now() - min(next_run_at)) FROM deployments
              WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= now()), 0) AS scheduler_lag_seconds,
    (SELECT count(DISTINCT worker_id) FROM runs
     WHERE status = 'RUNNING' AND heartbeat_at > now() - make_interval(secs => :lease_seconds)) AS live_workers,
    (SELECT coalesce(sum(source_bytes), 0) FROM dataset_facts WHERE source = 'uploaded') AS imported_bytes;
