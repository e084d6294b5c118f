"""The outputs a pipeline run retried by hand gave up (`run_earlier_outputs`): the retry starts the run without an
output (so deleting what its failed attempt left does not cancel it), and this is where the dataset its earlier
attempts wrote is still named, so the attempt-folder sweep and the next attempt find the folders left there.

Revision ID: 0028_run_earlier_outputs
Revises: 0027_list_page_indexes
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0028_run_earlier_outputs"
down_revision = "0027_list_page_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_earlier_outputs",
        sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("dataset_id", UUID(as_uuid=True), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("run_earlier_outputs")
