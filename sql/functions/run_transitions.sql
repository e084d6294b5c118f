-- The two hot transitions of a worker process (start_runs and finish_runs in sql/queries/runs.sql), as
-- functions: their statements are planned once per connection and kept (a generic plan), instead of being
-- parsed and planned again for every batch. Planning these CTEs cost more than running them: a batch of a few
-- runs is planned in ~0.3 ms and executed in less, and for small batches Postgres keeps choosing a fresh
-- custom plan even for a prepared statement (its estimate for an array of 3 ids beats the generic one's).
-- The plan is made once, often while the table is small and before it was ever analysed: on statistics like
-- those a generic plan reads the whole table (a seq scan, a hash join), and it would be kept as the table grows.
-- Every row these statements touch is found by primary key, so the functions plan without seq scans, hash
-- or merge joins: a few index probes per run at any table size. The SET clauses apply to the functions' own
-- statements and the triggers they fire (whose statements also find their rows by key).
-- Same conditions, locks (in id order), events and results as the statements were.

CREATE OR REPLACE FUNCTION start_runs(p_run_ids uuid[], p_worker_id text, p_from_statuses text[])
RETURNS TABLE (
    id uuid, namespace_id uuid, kind varchar, dataset_id uuid, deployment_id uuid, inputs jsonb,
    scheduled_for timestamptz, pipeline_id uuid, pipeline_version int, params jsonb, attempt int, attempt_base int,
    max_retries int, retry_backoff_seconds float8, retry_backoff_max_seconds float8, retry_jitter float8,
    timeout_seconds int, priority smallint, log_lines int, started_at timestamptz, from_status varchar, spec jsonb
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH prev AS (
        SELECT r.id, r.status FROM runs r WHERE r.id = ANY(p_run_ids) ORDER BY r.id FOR UPDATE
    ), started AS (
        UPDATE runs r
        SET status = 'RUNNING', attempt = r.attempt + 1, started_at = now(), heartbeat_at = now(),
            worker_id = p_worker_id, finished_at = NULL, next_retry_at = NULL, error_code = NULL,
            error_message = NULL
        FROM prev
        WHERE r.id = prev.id AND prev.status = ANY(p_from_statuses) AND r.cancel_requested_at IS NULL
        RETURNING r.id, r.namespace_id, r.kind, r.dataset_id, r.deployment_id, r.inputs, r.scheduled_for,
                  r.pipeline_id, r.pipeline_version, r.params, r.attempt, r.attempt_base, r.max_retries,
                  r.retry_backoff_seconds, r.retry_backoff_max_seconds, r.retry_jitter, r.timeout_seconds,
                  r.priority, r.log_lines, r.started_at, prev.status AS from_status
    ), event AS (
        INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt)
        SELECT s.id, s.from_status, 'RUNNING', 'started', p_worker_id, s.attempt FROM started s
    )
    SELECT s.*, v.spec
    FROM started s
    LEFT JOIN pipeline_versions v ON v.pipeline_id = s.pipeline_id AND v.version = s.pipeline_version;
END $$;

-- A batch's own captures: the rollup trigger (run_rollup_capture.sql) and the webhook trigger
-- (webhook_capture.sql) each ran one statement per finished run, started anew per row (a sixth of a
-- worker's Postgres CPU). While conveyor.finish_runs_captures is 'on' (only around this function's UPDATE;
-- a setting local to the transaction, so an error unwinds it) they skip the runs this UPDATE makes final
-- or concluded, and the function captures exactly those, for the whole batch at once, with the same
-- statements: the rollup from run_partials (+1 per run, read after the UPDATE, as the trigger read it) and
-- each concluded run's deliveries (enqueue_run_webhooks) where its namespace has an enabled subscription.
CREATE OR REPLACE FUNCTION finish_runs(
    p_run_ids uuid[], p_attempts int[], p_to_statuses text[], p_from_statuses text[], p_error_codes text[],
    p_error_messages text[], p_progress text[], p_log_lines int[], p_reasons text[], p_actors text[],
    p_details text[], p_log_run_ids uuid[], p_log_attempts int[], p_log_first_n int[], p_log_last_n int[],
    p_log_chunks bytea[]
)
RETURNS TABLE (id uuid, attempt int, status varchar, finished_at timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
#variable_conflict use_column
DECLARE
    done_ids uuid[];
    done_attempts int[];
    done_statuses varchar[];
    done_finished timestamptz[];
    made_final uuid[];
    concluded uuid[];
BEGIN
    PERFORM set_config('conveyor.finish_runs_captures', 'on', true);
    WITH input AS (
        SELECT *
        FROM unnest(p_run_ids, p_attempts, p_to_statuses, p_from_statuses, p_error_codes, p_error_messages,
                    p_progress, p_log_lines, p_reasons, p_actors, p_details)
             AS i(id, attempt, to_status, from_statuses, error_code, error_message, progress, log_lines, reason,
                  actor, details)
    ), prev AS (
        SELECT r.id, r.attempt, r.status FROM runs r JOIN input i ON i.id = r.id AND i.attempt = r.attempt
        ORDER BY r.id
        FOR UPDATE OF r
    ), done AS (
        UPDATE runs r
        SET status = i.to_status, finished_at = now(), heartbeat_at = NULL, error_code = i.error_code,
            error_message = i.error_message, progress = coalesce(CAST(i.progress AS jsonb), r.progress),
            log_lines = greatest(r.log_lines, coalesce(i.log_lines, 0))
        FROM prev JOIN input i ON i.id = prev.id AND i.attempt = prev.attempt
        WHERE r.id = prev.id AND prev.status = ANY(string_to_array(i.from_statuses, ','))
        RETURNING r.id, r.attempt, r.status, r.finished_at, prev.status AS from_status, i.reason, i.actor, i.details,
                  r.namespace_id
    ), logged AS (
        -- each attempt's last log lines, durable exactly when its outcome is (none when prev found no such attempt)
        INSERT INTO run_log_chunks (run_id, first_n, last_n, lines)
        SELECT c.run_id, c.first_n, c.last_n, c.lines
        FROM unnest(p_log_run_ids, p_log_attempts, p_log_first_n, p_log_last_n, p_log_chunks)
             AS c(run_id, attempt, first_n, last_n, lines)
        JOIN prev ON prev.id = c.run_id AND prev.attempt = c.attempt
        ON CONFLICT (run_id, first_n) DO NOTHING
    ), event AS (
        INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt, details)
        SELECT d.id, d.from_status, d.status, d.reason, d.actor, d.attempt, CAST(d.details AS jsonb) FROM done d
    )
    SELECT array_agg(d.id), array_agg(d.attempt), array_agg(d.status), array_agg(d.finished_at),
           -- the runs the triggers skipped: exactly those their WHEN clauses would have taken (and, of the
           -- concluded ones, those capture_run_webhook would have written deliveries for)
           array_agg(d.id) FILTER (WHERE d.status IN ({{FINAL}}) AND d.from_status NOT IN ({{FINAL}})),
           array_agg(d.id) FILTER (WHERE d.status IN ({{CONCLUDED}}) AND d.from_status IS DISTINCT FROM d.status
                                     AND EXISTS (SELECT FROM webhook_subscriptions s
                                                 WHERE s.namespace_id = d.namespace_id AND s.enabled))
    INTO done_ids, done_attempts, done_statuses, done_finished, made_final, concluded
    FROM done d;
    PERFORM set_config('conveyor.finish_runs_captures', 'off', true);
    IF made_final IS NOT NULL THEN
        PERFORM capture_run_rollup(made_final, 1);
    END IF;
    IF concluded IS NOT NULL THEN
        PERFORM enqueue_run_webhooks(r) FROM runs r WHERE r.id = ANY(concluded) ORDER BY r.id;
    END IF;
    RETURN QUERY SELECT * FROM unnest(done_ids, done_attempts, done_statuses, done_finished);
END $$;
