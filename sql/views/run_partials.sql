-- run_facts in the shape of the hourly rollup: one row per run with its hour, its dimensions and the
-- partial sums every run metric adds up. The rollup tables hold these rows summed per hour; a metric
-- reads the rollup for whole hours and this view for the rest, with one expression over both.
CREATE OR REPLACE VIEW run_partials AS
SELECT f.run_id,
       f.created_at,
       date_bin('1 hour', f.created_at, TIMESTAMPTZ '2000-01-01 00:00+00') AS hour,
       f.namespace_id,
       f.kind,
       f.trigger,
       f.status,
       f.pipeline_id,
       f.deployment_id,
       f.error_code,
       f.created_by,
       f.status IN ({{FINAL}}) AS final,
       1 AS runs,
       (f.duration_seconds IS NOT NULL)::int AS duration_n,
       coalesce(f.duration_seconds, 0)::float8 AS duration_sum,
       (f.queue_wait_seconds IS NOT NULL)::int AS wait_n,
       coalesce(f.queue_wait_seconds, 0)::float8 AS wait_sum,
       coalesce(f.rows_processed, 0) AS rows_sum,
       coalesce(f.bytes_processed, 0) AS bytes_sum,
       latency_bin(f.duration_seconds::float8) AS duration_bin,
       latency_bin(f.queue_wait_seconds::float8) AS wait_bin
FROM run_facts f;
