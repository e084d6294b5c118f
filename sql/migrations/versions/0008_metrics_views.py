"""Metrics views (sql/views/run_facts.sql, occurrence_facts.sql, dataset_facts.sql): the single definition of
each figure the metrics endpoints aggregate.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

VIEWS = Path(__file__).resolve().parents[2] / "views"
NAMES = ("run_facts", "occurrence_facts", "dataset_facts")


def upgrade() -> None:
    for name in NAMES:
        op.execute((VIEWS / f"{name}.sql").read_text())


def downgrade() -> None:
    for name in reversed(NAMES):
        op.execute(f"DROP VIEW IF EXISTS {name}")
