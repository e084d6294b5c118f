"""What the attempt-folder sweep needs to find every folder no version row names, and to go on where it stopped.

`run_earlier_outputs`: the outputs a pipeline run retried by hand gave up. The retry starts the run without an output
(so deleting what its failed attempt left does not cancel it), and this is where the dataset its earlier attempts
wrote is still named, so the sweep and the next attempt find the folders left there.

`attempt_sweep_positions`: the sweep's position in the runs that ended (a keyset on the end time and the id), one row
a pass, so a scheduler that restarts goes on from it instead of going over a day again; the sweep that holds the row
(FOR UPDATE SKIP LOCKED) is the only one sweeping, so two schedulers never sweep the same runs. Its rows are made by
the sweep on its first pass.

Revision ID: 0028_attempt_sweep
Revises: 0027_list_page_indexes
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0028_attempt_sweep"
down_revision = "0027_list_page_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_earlier_outputs",
        sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("dataset_id", UUID(as_uuid=True), primary_key=True),
    )

    op.create_table(
        "attempt_sweep_positions",
        sa.Column("pass", sa.String(32), primary_key=True),
        sa.Column("after_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("after_id", UUID(as_uuid=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("attempt_sweep_positions")
    op.drop_table("run_earlier_outputs")
