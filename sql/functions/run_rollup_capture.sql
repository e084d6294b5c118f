-- Keeps the hourly rollup of finished runs exact without slowing the hot path: when a run becomes
-- final (or a final run's figures change) its run_partials row is queued with +1; when it stops being
-- final (a manual retry), its figures change or it is deleted (retention), the row it was counted
-- with is queued with -1, so the rollup always agrees with run_facts. The
-- scheduler folds the queue into the rollup (fold_run_rollup_changes); a metric adds up the rollup,
-- the queue not folded yet and the runs that are not final, all read in one snapshot.
-- The triggers' WHEN clauses are read back (and compiled) for every statement on runs, whatever it touches:
-- they stay small (one array constant per status set) and test only the status; whether a final run that
-- stays final changed its figures is asked here, only for such a run (the rare case: a retention purge, an
-- edit of a finished run), and such an update that changes nothing counted is skipped.
-- Queue the runs' rollup figures as run_partials reads them now, with `sign` (-1 retracts, +1 counts): the
-- one INSERT of the rollup queue, for the row triggers below and for finish_runs' batches.
CREATE OR REPLACE FUNCTION capture_run_rollup(p_run_ids uuid[], sign int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id,
                                    error_code, created_by, runs, duration_n, duration_sum, wait_n, wait_sum,
                                    rows_sum, bytes_sum, duration_bin, wait_bin)
    SELECT run_id, hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by,
           sign * runs, sign * duration_n, sign * duration_sum, sign * wait_n, sign * wait_sum,
           sign * rows_sum, sign * bytes_sum, duration_bin, wait_bin
    FROM run_partials WHERE run_id = ANY(p_run_ids);
END $$;

CREATE OR REPLACE FUNCTION capture_run_rollup_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE WHEN TG_WHEN = 'BEFORE' THEN -1 ELSE 1 END;
    target uuid := CASE WHEN TG_WHEN = 'BEFORE' THEN OLD.id ELSE NEW.id END;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = ANY ({{FINAL_ARRAY}}) AND NEW.status = ANY ({{FINAL_ARRAY}})
           AND run_rollup_facts(OLD) IS NOT DISTINCT FROM run_rollup_facts(NEW) THEN
            RETURN NEW;  -- final and staying final, counted with the same figures: nothing to re-count
        END IF;
    END IF;
    -- A BEFORE trigger reads the row as it was; an AFTER trigger reads it as it is now.
    PERFORM capture_run_rollup(ARRAY[target], sign);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD WHEN TG_WHEN = 'BEFORE' THEN NEW END;
END $$;

-- What a run is counted with: a change to any of these re-counts a final run that stays final.
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

-- A final run stops being final, or may change its figures (the function decides): retract what it counted.
CREATE TRIGGER runs_rollup_retract BEFORE UPDATE ON runs FOR EACH ROW
WHEN (OLD.status = ANY ({{FINAL_ARRAY}}))
EXECUTE FUNCTION capture_run_rollup_change();

-- A run becomes final, or a final run may change its figures: count it. A run that becomes final inside
-- finish_runs is counted by finish_runs itself, once for its whole batch (conveyor.finish_runs_captures is
-- 'on' only around its UPDATE): see sql/functions/run_transitions.sql.
CREATE TRIGGER runs_rollup_count AFTER UPDATE ON runs FOR EACH ROW
WHEN (NEW.status = ANY ({{FINAL_ARRAY}})
      AND (OLD.status = ANY ({{FINAL_ARRAY}})
           OR current_setting('conveyor.finish_runs_captures', true) IS DISTINCT FROM 'on'))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_count_new AFTER INSERT ON runs FOR EACH ROW
WHEN (NEW.status = ANY ({{FINAL_ARRAY}}))
EXECUTE FUNCTION capture_run_rollup_change();

CREATE TRIGGER runs_rollup_forget BEFORE DELETE ON runs FOR EACH ROW
WHEN (OLD.status = ANY ({{FINAL_ARRAY}}))
EXECUTE FUNCTION capture_run_rollup_change();
