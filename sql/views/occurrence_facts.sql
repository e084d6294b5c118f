-- One row per recorded fire time, or range of missed fire times (`fire_times` of them, the last at
-- `scheduled_for`), with its deployment's namespace: what ran, and what did not and why.
CREATE OR REPLACE VIEW occurrence_facts AS
SELECT o.deployment_id,
       d.namespace_id,
       o.scheduled_for,
       o.outcome,
       o.outcome <> 'run' AS missed,
       o.recorded_at,
       o.fire_times
FROM occurrences o
JOIN deployments d ON d.id = o.deployment_id;
