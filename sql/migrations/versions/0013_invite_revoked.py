"""Invites remember when they were revoked, so the list can say `revoked` rather than `expired`.

Revoking already ends an invite at once (its expiry moves to now); without this column a revoked
invite could not be told from one that simply ran out, and the console showed it as expired.

Revision ID: 0013_invite_revoked
Revises: 0012_deployment_checks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_invite_revoked"
down_revision = "0012_deployment_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invites", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("invites", "revoked_at")
