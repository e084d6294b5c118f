"""A dataset version keeps its warnings as notices (code and parameters), so the console words them in its language.

`warnings` (the English text) stays for the clients that read it; versions written before this have `notices`
null, and the console shows their text.

Revision ID: 0020_version_notices
Revises: 0019_occurrence_ranges
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020_version_notices"
down_revision = "0019_occurrence_ranges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_versions", sa.Column("notices", JSONB))


def downgrade() -> None:
    op.drop_column("dataset_versions", "notices")
