"""A dataset version names the attempt of its run that wrote its files: each attempt writes in its own folder
(app.paths.version_key), so an attempt given up on that writes on never mixes into its retry's files, and readers
read the files of the attempt that published the version.

Versions written before this have `attempt` null: their files sit in the run's folder itself, where they are read.

Revision ID: 0025_version_attempts
Revises: 0024_cancel_requested_unstarted
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_version_attempts"
down_revision = "0024_cancel_requested_unstarted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_versions", sa.Column("attempt", sa.Integer))


def downgrade() -> None:
    op.drop_column("dataset_versions", "attempt")
