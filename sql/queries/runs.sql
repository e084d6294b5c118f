-- Hot-path statements on runs. Each state change is one statement: it locks
-- the row, updates it only if its status is one of :from_statuses (taken from
-- the transition table in app/domain/states.py) and writes the run_events row.

-- name: insert_runs
-- Submit many runs at once: the runs, their first events and their outbox
-- rows, in one statement, then wake the relay. A scheduled run whose
-- (deployment, fire time) already has a run is not inserted again; a held run
-- (overlap buffer) gets no outbox row until it is released. The outbox row of a
-- run planned ahead (see schedule_lookahead_seconds) is due at its fire time, so
-- the run waits, PENDING, until then. Rows come from app/domain/run_rows.py.
-- dispatch_actor set (the API, which sends the runs itself right after its
-- commit): every run that is due now is inserted QUEUED instead, with its
-- broker message id and a second event (PENDING -> QUEUED, `dispatched` by
-- that actor), as dispatch_outbox would leave it, and without an outbox row:
-- one transaction instead of three. If the send never happens (the API dies
-- first), the reaper finds the QUEUED run whose message the broker does not
-- hold and sends it again (claim_unstarted_runs); a refused send puts it back into
-- the outbox (put_back_outbox). The answer is the runs' rows as inserted, so a
-- submit answers from them rather than reading the runs back.
-- audit set (a submit's audit entry, the columns app/domain/audit.py `entry`
-- builds): written by the same statement, which saves the submit a round trip
-- inside its transaction; it commits with the runs or not at all, as
-- audit.record's would.
WITH input AS (
    SELECT x.*, (CAST(:dispatch_actor AS text) IS NOT NULL AND NOT coalesce(x.held, false)
                 AND coalesce(x.scheduled_for <= now(), true)) AS dispatch
    FROM jsonb_to_recordset(CAST(:runs AS jsonb)) AS x(
        id uuid, namespace_id uuid, kind text, trigger text, pipeline_id uuid, pipeline_version int,
        deployment_id uuid, scheduled_for timestamptz, params jsonb, priority smallint, max_retries int,
        retry_backoff_seconds float8, retry_backoff_max_seconds float8, retry_jitter float8,
        timeout_seconds int, queue text, actor text, held boolean, dataset_id uuid, inputs jsonb, created_by uuid
    )
), inserted AS (
    INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version, deployment_id,
                      scheduled_for, params, priority, max_retries, retry_backoff_seconds,
                      retry_backoff_max_seconds, retry_jitter, timeout_seconds, held, dataset_id, inputs,
                      created_by, queued_at, dispatched_at, broker_message_id, broker_queue)
    SELECT id, namespace_id, kind, trigger, CASE WHEN dispatch THEN 'QUEUED' ELSE 'PENDING' END, pipeline_id,
           pipeline_version, deployment_id, scheduled_for, coalesce(params, '{}'::jsonb), priority, max_retries,
           retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds, coalesce(held, false),
           dataset_id, inputs, created_by,
           CASE WHEN dispatch THEN now() END, CASE WHEN dispatch THEN now() END,
           CASE WHEN dispatch THEN CAST(gen_random_uuid() AS text) END, CASE WHEN dispatch THEN queue END
    FROM input
    ON CONFLICT (deployment_id, scheduled_for) WHERE trigger IN ('schedule', 'backfill') DO NOTHING
    RETURNING *
), events AS (
    -- created, then (for a run sent at once) dispatched: ordered so the event ids follow the transitions
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor)
    SELECT run_id, from_status, to_status, reason, actor
    FROM (
        SELECT i.id AS run_id, NULL AS from_status, 'PENDING' AS to_status,
               CASE WHEN i.held THEN 'created_held' ELSE 'created' END AS reason, input.actor, 1 AS step
        FROM inserted i JOIN input USING (id)
        UNION ALL
        SELECT i.id, 'PENDING' AS from_status, i.status, 'dispatched', CAST(:dispatch_actor AS text), 2
        FROM inserted i WHERE i.status = 'QUEUED'
    ) e
    ORDER BY run_id, step
), outbox_rows AS (
    INSERT INTO outbox (run_id, queue, priority, available_at)
    SELECT i.id, input.queue, input.priority, greatest(input.scheduled_for, now())
    FROM inserted i JOIN input USING (id) WHERE NOT i.held AND i.status = 'PENDING'
), audited AS (
    INSERT INTO audit_log (actor_user_id, actor_name, actor_token_id, action, resource_type, resource_id,
                           namespace_id, outcome, status_code, error_code, request_id, client_address,
                           user_agent, details)
    SELECT a.actor_user_id, a.actor_name, a.actor_token_id, a.action, a.resource_type, a.resource_id,
           a.namespace_id, a.outcome, a.status_code, a.error_code, a.request_id, a.client_address,
           a.user_agent, coalesce(a.details, '{}'::jsonb)
    FROM jsonb_to_record(CAST(:audit AS jsonb)) AS a(
        actor_user_id uuid, actor_name text, actor_token_id uuid, action text, resource_type text,
        resource_id text, namespace_id uuid, outcome text, status_code int, error_code text, request_id text,
        client_address text, user_agent text, details jsonb
    )
    WHERE CAST(:audit AS jsonb) IS NOT NULL
), wake AS (
    SELECT pg_notify('conveyor_outbox', '') WHERE EXISTS (SELECT FROM inserted WHERE status = 'PENDING' AND NOT held)
)
SELECT inserted.* FROM inserted LEFT JOIN wake ON true;

-- name: start_runs
-- Workers start runs: QUEUED → RUNNING and attempt + 1, for every run a worker
-- process's threads asked to start while the previous batch was being written
-- (workers/transitions.py). A duplicate message, or a run cancelled meanwhile,
-- matches nothing and starts nothing. Rows are locked in id order, so two
-- processes' batches never deadlock. The statement is the function start_runs
-- (sql/functions/run_transitions.sql), planned once per connection.
SELECT * FROM start_runs(CAST(:run_ids AS uuid[]), CAST(:worker_id AS text), CAST(:from_statuses AS text[]));

-- name: start_and_finish_runs
-- start_runs and finish_runs of one writer batch in one statement: the starts
-- first (an Append runs its branches in order, each function to its end), then
-- the finishes, in the statement's one transaction. One statement has one
-- result, which the writer takes in a single blocking libpq call
-- (workers/transitions.py). A finish row has its new status; a start row has
-- none (status and finished_at NULL, the columns start_runs returns filled).
SELECT s.*, NULL::varchar AS status, NULL::timestamptz AS finished_at
FROM start_runs(CAST(:start_run_ids AS uuid[]), CAST(:worker_id AS text), CAST(:start_from_statuses AS text[])) s
UNION ALL
SELECT f.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, f.attempt, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, f.status, f.finished_at
FROM finish_runs(
    CAST(:run_ids AS uuid[]), CAST(:attempts AS int[]), CAST(:to_statuses AS text[]), CAST(:from_statuses AS text[]),
    CAST(:error_codes AS text[]), CAST(:error_messages AS text[]), CAST(:progress AS text[]),
    CAST(:log_lines AS int[]), CAST(:reasons AS text[]), CAST(:actors AS text[]), CAST(:details AS text[]),
    CAST(:log_run_ids AS uuid[]), CAST(:log_attempts AS int[]), CAST(:log_first_n AS int[]),
    CAST(:log_last_n AS int[]), CAST(:log_chunks AS bytea[])
) f;

-- name: finish_run
-- A worker (or the reaper) ends an attempt in a final state. Matches only the
-- attempt it names, so a reaped-and-restarted run is never finished twice.
-- The attempt's unwritten log chunks (the log_ arrays, empty for none) are stored with it.
WITH prev AS (
    SELECT id, status FROM runs WHERE id = :run_id AND attempt = :attempt FOR UPDATE
), done AS (
    UPDATE runs r
    SET status = :to_status, finished_at = now(), heartbeat_at = NULL, error_code = :error_code,
        error_message = :error_message, progress = coalesce(CAST(:progress AS jsonb), r.progress),
        log_lines = greatest(r.log_lines, coalesce(:log_lines, 0))
    FROM prev
    WHERE r.id = prev.id AND prev.status = ANY(:from_statuses)
    RETURNING r.id, r.attempt, r.status, r.finished_at, prev.status AS from_status
), logged AS (
    -- the attempt's last log lines, durable exactly when its outcome is (none when prev found no such attempt)
    INSERT INTO run_log_chunks (run_id, first_n, last_n, lines)
    SELECT prev.id, c.first_n, c.last_n, c.lines
    FROM prev, unnest(CAST(:log_first_n AS int[]), CAST(:log_last_n AS int[]), CAST(:log_chunks AS bytea[]))
         AS c(first_n, last_n, lines)
    ON CONFLICT (run_id, first_n) DO NOTHING
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt, details)
    SELECT id, from_status, status, :reason, :actor, attempt, CAST(:details AS jsonb) FROM done
)
SELECT id, status, finished_at FROM done;

-- name: finish_runs
-- finish_run for many attempts at once (one worker process's threads, gathered
-- by workers/transitions.py): one row per attempt in the parallel arrays, each
-- with the statuses it may leave as a comma-separated list. Same conditions and
-- events as finish_run; rows are locked in id order. The attempts' unwritten log
-- chunks come in the flat log_ arrays (log_run_ids and log_attempts name each
-- chunk's attempt). Everything matches on (run, attempt): a stale attempt of a run
-- in the same batch as its current one changes nothing and stores no line.
-- The statement is the function finish_runs (sql/functions/run_transitions.sql), planned once per connection.
SELECT * FROM finish_runs(
    CAST(:run_ids AS uuid[]), CAST(:attempts AS int[]), CAST(:to_statuses AS text[]), CAST(:from_statuses AS text[]),
    CAST(:error_codes AS text[]), CAST(:error_messages AS text[]), CAST(:progress AS text[]),
    CAST(:log_lines AS int[]), CAST(:reasons AS text[]), CAST(:actors AS text[]), CAST(:details AS text[]),
    CAST(:log_run_ids AS uuid[]), CAST(:log_attempts AS int[]), CAST(:log_first_n AS int[]),
    CAST(:log_last_n AS int[]), CAST(:log_chunks AS bytea[])
);

-- name: lock_attempt
-- Lock the run of a running attempt before its unsuccessful end is decided
-- (app/domain/attempts.py): whether the user asked to cancel it. Nothing when the
-- attempt is no longer running. A cancel asked for up to the commit waits for the
-- lock, and then finds the run ended.
SELECT cancel_requested_at IS NOT NULL AS cancelling
FROM runs WHERE id = :run_id AND attempt = :attempt AND status = 'RUNNING'
FOR UPDATE;

-- name: schedule_retry
-- A failed attempt with retries left: RUNNING → RETRYING, and an outbox row
-- that the relay sends when the backoff has passed (so it survives broker loss).
-- Its caller has locked the run and found no cancel request (a run asked to
-- cancel ends CANCELLED by finish_run instead: app/domain/attempts.py).
-- The attempt's unwritten log chunks are stored with it, so the next attempt numbers on from them.
WITH prev AS (
    SELECT id, status FROM runs WHERE id = :run_id AND attempt = :attempt FOR UPDATE
), retrying AS (
    UPDATE runs r
    SET status = 'RETRYING', heartbeat_at = NULL, error_code = :error_code, error_message = :error_message,
        next_retry_at = now() + make_interval(secs => :delay_seconds),
        progress = coalesce(CAST(:progress AS jsonb), r.progress),
        log_lines = greatest(r.log_lines, coalesce(:log_lines, 0))
    FROM prev
    WHERE r.id = prev.id AND prev.status = ANY(:from_statuses)
    RETURNING r.id, r.attempt, r.status, r.priority, r.next_retry_at, r.broker_queue, prev.status AS from_status
), logged AS (
    -- the attempt's last log lines, durable exactly when its outcome is (none when prev found no such attempt)
    INSERT INTO run_log_chunks (run_id, first_n, last_n, lines)
    SELECT prev.id, c.first_n, c.last_n, c.lines
    FROM prev, unnest(CAST(:log_first_n AS int[]), CAST(:log_last_n AS int[]), CAST(:log_chunks AS bytea[]))
         AS c(first_n, last_n, lines)
    ON CONFLICT (run_id, first_n) DO NOTHING
), event AS (
    INSERT INTO run_events (run_id, from_status, to_status, reason, actor, attempt, details)
    SELECT id, from_status, 'RETRYING', :reason, :actor, attempt,
           jsonb_build_object('retry_at', next_retry_at, 'error_code', CAST(:error_code AS text))
    FROM retrying
), outbox_row AS (
    INSERT INTO outbox (run_id, queue, priority, available_at)
    SELECT id, coalesce(broker_queue, :queue), priority, next_retry_at FROM retrying  -- the run keeps its lane
)
SELECT id, status, next_retry_at FROM retrying;

-- name: heartbeat_runs
-- A worker's heartbeat for all the attempts it is running; returns the ones
-- it still owns, each with whether a cancel was asked for. The rows are locked
-- in id order first, as start_runs and finish_runs lock theirs: updated in the
-- order of the array, a heartbeat and the same worker's finish batch could each
-- hold a row the other waits for, a deadlock Postgres breaks only after
-- deadlock_timeout (1 s), every run of that batch held up meanwhile.
WITH h AS (
    SELECT *
    FROM unnest(CAST(:run_ids AS uuid[]), CAST(:attempts AS int[]), CAST(:progress AS jsonb[]),
                CAST(:log_lines AS int[])) AS h(id, attempt, progress, log_lines)
), owned AS (
    SELECT r.id FROM runs r JOIN h ON h.id = r.id AND h.attempt = r.attempt
    WHERE r.status = 'RUNNING'
    ORDER BY r.id
    FOR UPDATE OF r
)
UPDATE runs r
SET heartbeat_at = now(), progress = h.progress, log_lines = greatest(r.log_lines, h.log_lines)
FROM owned JOIN h ON h.id = owned.id
WHERE r.id = owned.id
RETURNING r.id, r.cancel_requested_at IS NOT NULL AS cancel_requested;
