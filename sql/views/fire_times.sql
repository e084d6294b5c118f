-- Every fire time of every deployment and what became of it: the run it made (with the run's status and
-- lateness), or the reason it made none. "Why didn't it run?" is one query on this view. A long downtime's
-- missed fire times are one row: `fire_times` of them, from `first_scheduled_for` to `scheduled_for`.
-- `reason_code` is why as a stable code (app/scheduling/reasons.py); `reason` is the English detail.
CREATE OR REPLACE VIEW fire_times AS
SELECT o.deployment_id,
       d.name AS deployment,
       d.namespace_id,
       o.scheduled_for,
       o.outcome,
       o.reason,
       o.run_id,
       r.status AS run_status,
       extract(epoch FROM r.queued_at - o.scheduled_for) AS lateness_seconds,
       o.recorded_at,
       o.first_scheduled_for,
       o.fire_times,
       o.reason_code
FROM occurrences o
JOIN deployments d ON d.id = o.deployment_id
LEFT JOIN runs r ON r.id = o.run_id;
