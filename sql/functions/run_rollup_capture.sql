-- Keeps the hourly rollup of finished runs exact without slowing the hot path: when a run becomes
-- final (or a final run's figures change) its run_partials row is queued with +1; when it stops being
-- final (a manual retry), its figures change or it is deleted (retention), the row it was counted
-- with is queued with -1, so the rollup always agrees with run_facts. The
-- scheduler folds the queue into the rollup (fold_run_rollup_changes); a metric adds up the rollup,
-- the queue not folded yet and the runs that are not final, all read in one snapshot.
CREATE OR REPLACE FUNCTION capture_run_rollup_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE WHEN TG_WHEN = 'BEFORE' THEN -1 ELSE 1 END;
    target uuid := CASE WHEN TG_WHEN = 'BEFORE' THEN OLD.id ELSE NEW.id END;
BEGIN
    -- A BEFORE trigger reads the row as it was; an AFTER trigger reads it as it is now.
    INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id,
                                    error_code, created_by, runs, duration_n, duration_sum, wait_n, wait_sum,
                                    rows_sum, bytes_sum, duration_bin, wait_bin)
    SELECT run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           sign * runs, sign * duration_n, sign * duration_sum, sign * wait_n, sign * wait_sum,
           sign * rows_sum, sign * bytes_sum, duration_bin, wait_bin
    FROM run_partials WHERE run_id = target;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD WHEN TG_WHEN = 'BEFORE' THEN NEW END;
END $$;

-- What a run is counted with: a change to any of these re-counts a final run. Only evaluated for a
-- final run that stays final: a status change into or out of the final states decides on its own.
-- plpgsql, not sql: the triggers' WHEN clauses are planned for every UPDATE statement on runs, and the
-- planner parses and analyses an sql function's body each time to try to inline it (about a tenth of a
-- worker's start/finish cost in Postgres), although the function is called only for a final run staying final.
CREATE OR REPLACE FUNCTION run_rollup_facts(r runs) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN
    RETURN jsonb_build_array(r.status, r.kind, r.trigger, r.namespace_id, r.pipeline_id, r.deployment_id,
                             r.error_code, r.created_by, r.created_at, r.queued_at, r.started_at, r.finished_at,
                             r.progress);
END $$;

DROP TRIGGER IF EXISTS runs_rollup_retract ON runs;
DROP TRIGGER IF EXISTS runs_rollup_count ON runs;
DROP TRIGGER IF EXISTS runs_rollup_count_new ON runs;
DROP TRIGGER IF EXISTS runs_rollup_forget ON runs;

CREATE TRIGGER runs_rollup_retract BEFORE UPDATE ON runs FOR EACH ROW
WHEN (OLD.status IN ({{FINAL}})
      AND (NEW.status NOT IN ({{FINAL}})
           OR run_rollup_facts(OLD) IS DISTINCT FROM run_rollup_facts(NEW)))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_count AFTER UPDATE ON runs FOR EACH ROW
WHEN (NEW.status IN ({{FINAL}})
      AND (OLD.status NOT IN ({{FINAL}})
           OR run_rollup_facts(OLD) IS DISTINCT FROM run_rollup_facts(NEW)))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_count_new AFTER INSERT ON runs FOR EACH ROW
WHEN (NEW.status IN ({{FINAL}}))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_forget BEFORE DELETE ON runs FOR EACH ROW
WHEN (OLD.status IN ({{FINAL}}))
EXECUTE FUNCTION capture_run_rollup_change();
