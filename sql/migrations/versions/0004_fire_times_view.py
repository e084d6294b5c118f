"""The fire_times view (sql/views/fire_times.sql): each fire time, its run or the reason there is none.

The view as this revision made it is written out here (0019 changes sql/views/fire_times.sql).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: sql/views/fire_times.sql as this revision made it.
VIEW = """
-- Every fire time of every deployment and what became of it: the run it made (with the run's status and
-- lateness), or the reason it made none. "Why didn't it run?" is one query on this view.
CREATE OR REPLACE VIEW fire_times AS
SELECT o.deployment_id,
       d.name AS deployment,
       d.namespace_id,
       o.scheduled_for,
       o.outcome,
       o.reason,
       o.run_id,
       r.status AS run_status,
       extract(epoch FROM r.queued_at - o.scheduled_for) AS lateness_seconds,
       o.recorded_at
FROM occurrences o
JOIN deployments d ON d.id = o.deployment_id
LEFT JOIN runs r ON r.id = o.run_id;
"""


def upgrade() -> None:
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS fire_times")
