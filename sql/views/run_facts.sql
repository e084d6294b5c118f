-- One row per run with the figures every run metric is made of: the single definition of "duration",
-- "queue wait", "rows" and "bytes" that the metrics endpoints aggregate. `created_by` is the user who
-- submitted the run, or for a scheduled run the user who made its deployment.
-- A count from a run's progress, or NULL when it is missing or not a number: a run whose progress holds
-- something odd still finishes (the rollup's triggers read this view) and still counts.
CREATE OR REPLACE FUNCTION progress_count(value jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN jsonb_typeof(value) = 'number' AND abs(value::numeric) < 9e18
                  THEN round(value::numeric)::bigint END $$;

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
       -- A run cancelled while queued for a retry keeps its last start, older than its new queueing: no wait.
       CASE WHEN r.started_at >= coalesce(r.queued_at, r.created_at)
            THEN extract(epoch FROM r.started_at - coalesce(r.queued_at, r.created_at)) END AS queue_wait_seconds,
       coalesce(progress_count(r.progress -> 'rows'), progress_count(r.progress -> 'rows_out')) AS rows_processed,
       progress_count(r.progress -> 'bytes') AS bytes_processed,
       r.created_by
FROM runs r;
