-- Deployment lists and pages: what their runs add to each deployment.

-- name: deployment_run_counts
-- Runs per deployment and status, with the newest run's creation time.
SELECT deployment_id, status, count(*) AS n, max(created_at) AS newest
FROM runs WHERE deployment_id = ANY(CAST(:ids AS uuid[])) GROUP BY deployment_id, status;

-- name: deployment_last_runs
-- The latest run of each deployment.
SELECT DISTINCT ON (deployment_id) deployment_id, id, status, scheduled_for, created_at
FROM runs WHERE deployment_id = ANY(CAST(:ids AS uuid[])) ORDER BY deployment_id, created_at DESC, id DESC;

-- name: deployment_pipeline_names
-- Each deployment's pipeline name, for lists that show it.
SELECT d.id, p.name FROM deployments d JOIN pipelines p ON p.id = d.pipeline_id
WHERE d.id = ANY(CAST(:ids AS uuid[]));
