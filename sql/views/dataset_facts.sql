-- One row per dataset version: imports (source 'uploaded') and pipeline outputs (source 'generated').
CREATE OR REPLACE VIEW dataset_facts AS
SELECT v.dataset_id,
       d.namespace_id,
       d.source,
       v.version,
       v.run_id,
       v.created_at,
       v.row_count,
       v.size_bytes,
       v.source_bytes,
       v.rejected_rows
FROM dataset_versions v
JOIN datasets d ON d.id = v.dataset_id;
