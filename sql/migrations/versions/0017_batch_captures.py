"""Less Postgres CPU per run transition: a finish batch captures its own rollup and webhooks, lighter WHENs and CHECKs.

- finish_runs captures the rollup change and the webhook deliveries of the runs it finishes once per batch (one
  statement each) instead of the row triggers running a statement per run; the triggers skip those runs while
  conveyor.finish_runs_captures is 'on' (sql/functions/run_transitions.sql).
- The WHEN clauses of the rollup and webhook triggers on runs, and runs' CHECK constraints on status, kind and
  trigger, test one array constant instead of an IN list: Postgres reads every one of them back from its
  stored tree and compiles it for each statement that updates runs (a node per listed value: several kB).
  Whether a final run that stays final changed its figures moves from the rollup triggers' WHEN into their
  function (run_rollup_capture.sql), asked only for such a run.

The CHECKs mean the same; they are added NOT VALID and then validated, so the table is not locked for the scan.

Revision ID: 0017_batch_captures
Revises: 0016_cheaper_transitions
Create Date: 2026-12-03
"""

from __future__ import annotations

import runpy
from pathlib import Path

from alembic import op

from app.core.states import RunKind, RunStatus, RunTrigger, sql_array
from app.db.queries import SQL_ROOT, render, sql_file

revision = "0017_batch_captures"
down_revision = "0016_cheaper_transitions"
branch_labels = None
depends_on = None

FUNCTIONS = SQL_ROOT / "functions"
HERE = Path(__file__).resolve().parent
#: runs' CHECKs that list a column's values (as 0001 made them, from the enums).
CHECKS = {
    "status": [s.value for s in RunStatus],
    "kind": [k.value for k in RunKind],
    "trigger": [t.value for t in RunTrigger],
}


def _checks(condition: str) -> None:
    """runs' CHECKs on status, kind and trigger replaced; `condition` is how a column tests its values."""
    for column, values in CHECKS.items():
        test = condition.format(column=column, array=sql_array(values), items=", ".join(f"'{v}'" for v in values))
        op.execute(f"ALTER TABLE runs DROP CONSTRAINT ck_runs_{column}")
        op.execute(f"ALTER TABLE runs ADD CONSTRAINT ck_runs_{column} CHECK ({test}) NOT VALID")
        op.execute(f"ALTER TABLE runs VALIDATE CONSTRAINT ck_runs_{column}")


def upgrade() -> None:
    op.execute(sql_file(FUNCTIONS / "webhook_capture.sql"))
    op.execute(sql_file(FUNCTIONS / "run_rollup_capture.sql"))
    op.execute(sql_file(FUNCTIONS / "run_transitions.sql"))
    _checks("{column} = ANY ({array})")


def downgrade() -> None:
    _checks("{column} IN ({items})")
    previous = runpy.run_path(str(HERE / "0016_cheaper_transitions.py"))
    op.execute(render(previous["TRANSITIONS"]))
    op.execute(render(previous["ROLLUP_CAPTURE"]))
    op.execute(render(previous["WEBHOOK_CAPTURE"]))
    op.execute("DROP FUNCTION IF EXISTS enqueue_run_webhooks(runs)")
    op.execute("DROP FUNCTION IF EXISTS capture_run_rollup(uuid[], int)")
