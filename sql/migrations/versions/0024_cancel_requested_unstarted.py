"""A partial index of the runs asked to cancel that wait to start (PENDING, QUEUED, RETRYING): the reaper ends them
CANCELLED (end_cancel_requested_unstarted in sql/queries/reaper.sql) at every pass, and finds them here instead of
among every waiting run. It holds none, normally: a cancel ends a waiting run at once; only a run retried before the
cancel request was seen is left so.

Revision ID: 0024_cancel_requested_unstarted
Revises: 0023_run_facts_fire_times
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_cancel_requested_unstarted"
down_revision = "0023_run_facts_fire_times"
branch_labels = None
depends_on = None

#: The waiting states (app.core.states.CANCEL_AT_ONCE) as this revision wrote them.
WHERE = "cancel_requested_at IS NOT NULL AND status IN ('PENDING', 'QUEUED', 'RETRYING')"


def upgrade() -> None:
    op.create_index("ix_runs_cancel_requested_unstarted", "runs", ["id"], postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_runs_cancel_requested_unstarted", table_name="runs")
