-- Authentication on the hot path.

-- name: resolve_bearer_token
-- The caller behind a bearer token (access or API token), with the user's
-- namespace memberships, in one query: run on every authenticated request.
SELECT t.id AS token_id, t.kind, t.family_id, t.namespace_id AS token_namespace, t.role AS token_role,
       u.id AS user_id, u.username, u.is_superuser, u.must_change_password,
       coalesce((SELECT json_agg(json_build_array(m.namespace_id, m.role))
                 FROM namespace_members m WHERE m.user_id = u.id), '[]') AS memberships
FROM auth_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = :hash AND t.kind IN ('access', 'api') AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT u.is_disabled;

-- name: bootstrap_lock
-- Serialises concurrent first starts (two `conveyor up` on one database) while
-- the first account is made.
SELECT pg_advisory_xact_lock(7212001);
