-- Pipeline look-ups on the submit path (app/domain/pipelines.py, resolve_submit_target): one plain
-- statement for what a submit needs of the pipeline it names, rather than ORM loads of the namespace and
-- the pipeline.

-- name: submit_target_by_id
SELECT id, namespace_id, latest_version, archived_at IS NOT NULL AS archived
FROM pipelines
WHERE id = :pipeline_id;

-- name: submit_target_by_name
-- No row: the namespace does not exist; a row with a NULL id: it has no pipeline of that name.
SELECT p.id, n.id AS namespace_id, p.latest_version, p.archived_at IS NOT NULL AS archived
FROM namespaces n
LEFT JOIN pipelines p ON p.namespace_id = n.id AND p.name = :name
WHERE n.name = :namespace;

-- name: pipeline_version_params
-- The parameters a version declares, checked at submit (app/domain/run_params.py); read once per version.
SELECT spec->'params' AS params
FROM pipeline_versions
WHERE pipeline_id = :pipeline_id AND version = :version;
