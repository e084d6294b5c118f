"""Pipeline runs pin their input dataset versions and keep their validate reports; versions record their author.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("inputs", JSONB))
    op.add_column("runs", sa.Column("validation", JSONB))
    op.add_column("pipeline_versions", sa.Column("created_by", UUID(as_uuid=True)))
    op.add_column("pipeline_versions", sa.Column("message", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("pipeline_versions", "message")
    op.drop_column("pipeline_versions", "created_by")
    op.drop_column("runs", "validation")
    op.drop_column("runs", "inputs")
