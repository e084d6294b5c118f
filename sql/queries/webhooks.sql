-- The webhook sender: claim due deliveries, record each attempt, disable subscriptions failing for a day.
-- Times come in as :now (the sender's clock, injected in tests), never from now(), so backoff is testable.

-- name: claim_webhook_deliveries
-- Take a batch of due deliveries and lease them (pushed :lease_seconds ahead, attempt counted), so a sender
-- that dies mid-post leaves them due again after the lease. SKIP LOCKED lets several schedulers share them.
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= :now
    ORDER BY next_attempt_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE webhook_deliveries d
    SET next_attempt_at = CAST(:now AS timestamptz) + make_interval(secs => :lease_seconds), attempts = d.attempts + 1
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.message_id, d.subscription_id, d.payload, d.attempts
)
SELECT c.id, c.message_id, c.subscription_id, c.payload, c.attempts, s.url, s.enabled, s.secret,
       CASE WHEN s.previous_secret_until > :now THEN s.previous_secret END AS previous_secret
FROM claimed c JOIN webhook_subscriptions s ON s.id = c.subscription_id;

-- name: record_webhook_attempts
-- The outcome of a batch of attempts: one attempts row each, and each delivery succeeded, failed (no
-- :next_at) or pending again at :next_at.
WITH r AS (
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS int[]), CAST(:status_codes AS int[]),
                         CAST(:errors AS text[]), CAST(:latencies AS float8[]), CAST(:excerpts AS text[]),
                         CAST(:oks AS boolean[]), CAST(:next_at AS timestamptz[]))
        AS x(id, attempt, status_code, error, latency_ms, excerpt, ok, next_at)
), logged AS (
    INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error, latency_ms, response_excerpt)
    SELECT id, attempt, :now, status_code, error, latency_ms, excerpt FROM r
)
UPDATE webhook_deliveries d
SET status = CASE WHEN r.ok THEN 'succeeded' WHEN r.next_at IS NULL THEN 'failed' ELSE 'pending' END,
    next_attempt_at = coalesce(r.next_at, d.next_attempt_at), last_attempt_at = :now,
    last_status_code = r.status_code, delivered_at = CASE WHEN r.ok THEN CAST(:now AS timestamptz) END
FROM r WHERE d.id = r.id;

-- name: track_webhook_failures
-- A subscription with a success in the batch is healthy again; one with only failures is failing since its first.
WITH outcome AS (
    SELECT subscription_id, bool_or(ok) AS ok
    FROM unnest(CAST(:subscription_ids AS uuid[]), CAST(:oks AS boolean[])) AS x(subscription_id, ok)
    GROUP BY subscription_id
)
UPDATE webhook_subscriptions s
SET failing_since = CASE WHEN o.ok THEN NULL ELSE coalesce(s.failing_since, CAST(:now AS timestamptz)) END
FROM outcome o WHERE s.id = o.subscription_id;

-- name: disable_failing_webhooks
-- Of these subscriptions, the ones failing for :disable_after_seconds are disabled and returned, to be audited.
UPDATE webhook_subscriptions
SET enabled = false, updated_at = :now,
    disabled_reason = 'every delivery failed since '
        || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
WHERE id = ANY(CAST(:subscription_ids AS uuid[])) AND enabled
  AND failing_since <= CAST(:now AS timestamptz) - make_interval(secs => :disable_after_seconds)
RETURNING id, namespace_id, url, disabled_reason;

-- name: webhook_due_in
-- Seconds until the next pending delivery is due (negative: due already; NULL: none).
SELECT extract(epoch FROM min(next_attempt_at) - CAST(:now AS timestamptz))
FROM webhook_deliveries WHERE status = 'pending';
