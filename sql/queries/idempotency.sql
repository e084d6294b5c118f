-- Idempotency-Key (app/domain/idempotency.py): the same key and body give the same result.

-- name: claim_idempotency_key
-- Reserve a key for this request, or take over an expired one; no row back
-- means another request holds it (the caller then reads its result).
INSERT INTO idempotency_keys (scope, key, request_hash, resource_ids, expires_at)
VALUES (:scope, :key, :hash, '{}'::jsonb, now() + make_interval(hours => :ttl_hours))
ON CONFLICT (scope, key) DO UPDATE
    SET request_hash = excluded.request_hash, resource_ids = '{}'::jsonb,
        created_at = now(), expires_at = excluded.expires_at
    WHERE idempotency_keys.expires_at < now()
RETURNING key;

-- name: idempotency_key_result
SELECT request_hash, resource_ids FROM idempotency_keys WHERE scope = :scope AND key = :key;

-- name: record_idempotency_key
UPDATE idempotency_keys SET resource_ids = CAST(:ids AS jsonb) WHERE scope = :scope AND key = :key;

-- name: release_idempotency_key
-- Give back a key whose request did no work but must still commit (an upload's kept refusal), so a retry
-- with it does the work rather than replaying nothing.
DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key;
