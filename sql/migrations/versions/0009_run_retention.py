"""Retention: a finished run records when its logs and events were removed, so each pass only looks at new ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("logs_purged_at", sa.TIMESTAMP(timezone=True)))
    op.create_index(
        "ix_runs_finished_unpurged",
        "runs",
        ["finished_at"],
        postgresql_where=sa.text("finished_at IS NOT NULL AND logs_purged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_finished_unpurged", table_name="runs")
    op.drop_column("runs", "logs_purged_at")
