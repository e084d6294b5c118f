"""Runs record who made them (`runs.created_by`), so metrics can be broken down by user.

A run submitted through the API records its caller; a scheduled or backfilled
run records the user who made its deployment. run_facts gains the column, and
reads counts from a run's progress without failing on a value that is not a number.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import runpy
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

VIEWS = Path(__file__).resolve().parents[2] / "views"


def upgrade() -> None:
    op.add_column("runs", sa.Column("created_by", UUID(as_uuid=True)))
    op.execute(
        "UPDATE runs r SET created_by = d.created_by FROM deployments d"
        " WHERE d.id = r.deployment_id AND r.created_by IS NULL"
    )
    op.execute((VIEWS / "run_facts.sql").read_text())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS run_facts")
    op.execute("DROP FUNCTION IF EXISTS progress_count(jsonb)")
    op.drop_column("runs", "created_by")
    op.execute(runpy.run_path(str(Path(__file__).with_name("0008_metrics_views.py")))["VIEWS"]["run_facts"])
