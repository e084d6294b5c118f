"""Cheaper run transitions in Postgres: planned once per connection, fewer index entries, lighter triggers.

- start_runs and finish_runs become plpgsql functions (sql/functions/run_transitions.sql) that keep a generic
  plan per connection; the named queries call them. Planning the CTEs cost more than running them.
- run_rollup_facts becomes plpgsql, so planning the rollup triggers' WHEN clauses (done for every UPDATE
  statement on runs) no longer parses and analyses its body to try to inline it.
- capture_run_webhook builds a run's payload only when its namespace has an enabled subscription.
- ix_runs_deployment_active holds only runs of a deployment: a submitted run's three active states no longer
  each add an entry that no query reads (every reader names a deployment).

This revision applies sql/functions/ as they are today; whoever changes them next copies today's text in
here first, as 0011 and 0015 do, so a fresh database still builds in order.

Revision ID: 0016_cheaper_transitions
Revises: 0015_webhooks_tables
Create Date: 2026-12-03
"""

from __future__ import annotations

import runpy
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from app.core.states import ACTIVE, sql_list
from app.db.queries import SQL_ROOT, render, sql_file

revision = "0016_cheaper_transitions"
down_revision = "0015_webhooks_tables"
branch_labels = None
depends_on = None

FUNCTIONS = SQL_ROOT / "functions"
HERE = Path(__file__).resolve().parent


def _deployment_active(where: str) -> None:
    op.drop_index("ix_runs_deployment_active", table_name="runs")
    op.create_index("ix_runs_deployment_active", "runs", ["deployment_id", "status"], postgresql_where=sa.text(where))


def upgrade() -> None:
    op.execute(sql_file(FUNCTIONS / "run_transitions.sql"))
    op.execute(sql_file(FUNCTIONS / "run_rollup_capture.sql"))
    op.execute(sql_file(FUNCTIONS / "webhook_capture.sql"))
    _deployment_active(f"deployment_id IS NOT NULL AND status IN ({sql_list(ACTIVE)})")


def downgrade() -> None:
    _deployment_active(f"status IN ({sql_list(ACTIVE)})")
    op.execute(render(runpy.run_path(str(HERE / "0015_webhooks_tables.py"))["WEBHOOK_CAPTURE"]))
    op.execute(render(runpy.run_path(str(HERE / "0011_run_rollup.py"))["ROLLUP_CAPTURE"]))
    op.execute("DROP FUNCTION IF EXISTS start_runs(uuid[], text, text[])")
    op.execute(
        "DROP FUNCTION IF EXISTS finish_runs(uuid[], int[], text[], text[], text[], text[], text[], int[], text[],"
        " text[], text[], uuid[], int[], int[], int[], bytea[])"
    )
