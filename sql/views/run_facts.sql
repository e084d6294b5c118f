-- One row per run with the figures every run metric is made of: the single definition of "duration",
-- "queue wait", "rows" and "bytes" that the metrics endpoints aggregate. `created_by` is the user who
-- submitted the run, or for a scheduled run the user who made its deployment.
CREATE OR REPLACE VIEW run_facts AS
SELECT r.id AS run_id,
       r.namespace_id,
       r.kind,
       r.trigger,
       r.status,
       r.pipeline_id,
       r.deployment_id,
       r.dataset_id,
       coalesce(r.error_code, '') AS error_code,
       r.created_at,
       r.queued_at,
       r.started_at,
       r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at) AS duration_seconds,
       extract(epoch FROM r.started_at - coalesce(r.queued_at, r.created_at)) AS queue_wait_seconds,
       coalesce((r.progress ->> 'rows')::bigint, (r.progress ->> 'rows_out')::bigint) AS rows_processed,
       (r.progress ->> 'bytes')::bigint AS bytes_processed,
       r.created_by
FROM runs r;
