"""An occurrence may stand for a range of missed fire times, so a long downtime is recorded in a bounded number of rows.

`fire_times` (1 for a single fire time) counts the fire times a row stands for, and `first_scheduled_for` (null
for a single one) is the first of them; `scheduled_for` is the last. The views count fire times, not rows, and
the deployment.misfired / deployment.run_skipped webhooks carry both (sql/functions/webhook_capture.sql).

Revision ID: 0019_occurrence_ranges
Revises: 0018_representable_times
Create Date: 2026-12-04
"""

from __future__ import annotations

import runpy
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from app.db.queries import SQL_ROOT, render, sql_file

revision = "0019_occurrence_ranges"
down_revision = "0018_representable_times"
branch_labels = None
depends_on = None

VIEWS = Path(__file__).resolve().parents[2] / "views"


def upgrade() -> None:
    op.add_column("occurrences", sa.Column("first_scheduled_for", sa.DateTime(timezone=True)))
    op.add_column("occurrences", sa.Column("fire_times", sa.Integer, nullable=False, server_default=sa.text("1")))
    op.create_check_constraint(
        op.f("ck_occurrences_range"),
        "occurrences",
        "fire_times >= 1 AND (first_scheduled_for IS NULL) = (fire_times = 1)"
        " AND (first_scheduled_for IS NULL OR first_scheduled_for < scheduled_for)",
    )
    op.execute((VIEWS / "occurrence_facts.sql").read_text())
    op.execute((VIEWS / "fire_times.sql").read_text())
    op.execute(sql_file(SQL_ROOT / "functions" / "webhook_capture.sql"))


def downgrade() -> None:
    op.execute(render(runpy.run_path(str(Path(__file__).with_name("0017_batch_captures.py")))["WEBHOOK_CAPTURE"]))
    op.execute("DROP VIEW IF EXISTS occurrence_facts")
    op.execute("DROP VIEW IF EXISTS fire_times")
    op.drop_constraint(op.f("ck_occurrences_range"), "occurrences", type_="check")
    op.drop_column("occurrences", "fire_times")
    op.drop_column("occurrences", "first_scheduled_for")
    op.execute(runpy.run_path(str(Path(__file__).with_name("0008_metrics_views.py")))["VIEWS"]["occurrence_facts"])
    op.execute(runpy.run_path(str(Path(__file__).with_name("0004_fire_times_view.py")))["VIEW"])
