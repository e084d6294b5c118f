"""The fire_times view (sql/views/fire_times.sql): each fire time, its run or the reason there is none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEW = Path(__file__).resolve().parents[2] / "views" / "fire_times.sql"


def upgrade() -> None:
    op.execute(VIEW.read_text())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS fire_times")
