"""The outbox holds unsent messages only; a sent run carries its broker message id and queue.

The relay deletes the outbox rows it sends in the same statement that marks
their runs QUEUED (one write per row instead of a claim and a second update),
so a burst of thousands of due runs leaves in well under a second. The reaper
reads the message id from the run to ask the broker whether it still holds it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("broker_message_id", sa.String(64)))
    op.add_column("runs", sa.Column("broker_queue", sa.String(100)))
    op.execute(
        """
        UPDATE runs r SET broker_message_id = o.broker_message_id, broker_queue = o.queue
        FROM (SELECT DISTINCT ON (run_id) run_id, broker_message_id, queue FROM outbox
              WHERE dispatched_at IS NOT NULL ORDER BY run_id, id DESC) o
        WHERE r.id = o.run_id AND r.status = 'QUEUED'
        """
    )
    op.execute("DELETE FROM outbox WHERE dispatched_at IS NOT NULL")
    op.drop_index("ix_outbox_dispatched", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    for column in ("claimed_by", "claimed_until", "dispatched_at", "broker_message_id"):
        op.drop_column("outbox", column)
    op.create_index("ix_outbox_due", "outbox", [sa.text("priority DESC"), "available_at", "id"])
    op.create_index("ix_outbox_available", "outbox", ["available_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_available", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.add_column("outbox", sa.Column("claimed_by", sa.String(200)))
    op.add_column("outbox", sa.Column("claimed_until", sa.TIMESTAMP(timezone=True)))
    op.add_column("outbox", sa.Column("dispatched_at", sa.TIMESTAMP(timezone=True)))
    op.add_column("outbox", sa.Column("broker_message_id", sa.String(64)))
    op.create_index(
        "ix_outbox_due", "outbox", ["available_at", "id"], postgresql_where=sa.text("dispatched_at IS NULL")
    )
    op.create_index(
        "ix_outbox_dispatched", "outbox", ["dispatched_at"], postgresql_where=sa.text("dispatched_at IS NOT NULL")
    )
    op.drop_column("runs", "broker_queue")
    op.drop_column("runs", "broker_message_id")
