"""Every occurrence says why as a stable code (`reason_code`, app.scheduling.reasons.ReasonCode) that the console
words in the reader's language; `reason` stays the English detail.

Rows written before this revision get the code their outcome or their reason's wording shows (the sentences the
scheduler wrote until now), else `unspecified`. The SQL is this file's own: it reads nothing under sql/.

Revision ID: 0021_occurrence_reason_codes
Revises: 0019_occurrence_ranges
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_occurrence_reason_codes"
down_revision = "0020_version_notices"
branch_labels = None
depends_on = None

#: The code of an occurrence written before codes existed, from its outcome and the sentences that were written
#: (app/scheduling/planning.py, scheduler/, app/domain/deployment_fire_times.py as they were), first match wins.
BACKFILL = """
UPDATE occurrences SET reason_code = CASE
    WHEN outcome = 'run' THEN 'ran'
    WHEN outcome = 'buffered' THEN 'buffered'
    WHEN outcome = 'dst_skipped' OR reason LIKE '%local time does not exist%' THEN 'dst_gap'
    WHEN outcome = 'plan_failed' AND reason LIKE 'timeout_too_long:%' THEN 'timeout_too_long'
    WHEN outcome = 'plan_failed' THEN 'plan_failed'
    WHEN reason LIKE '%paused before its run was sent%' THEN 'paused_unsent'
    WHEN outcome = 'paused' THEN 'paused'
    WHEN reason LIKE '%due before the schedule changed%' THEN 'schedule_changed'
    WHEN reason LIKE '%beyond max\\_catch\\_up=%' THEN 'max_catch_up'
    WHEN reason LIKE '%s late (grace %' THEN 'misfire_grace'
    WHEN outcome = 'coalesced' THEN 'coalesced'
    WHEN reason LIKE '%superseded by the run for a later fire time%' THEN 'superseded'
    WHEN reason LIKE '%max\\_concurrent\\_runs=% reached%' THEN 'overlap_limit'
    ELSE 'unspecified'
END
"""


def upgrade() -> None:
    op.add_column(
        "occurrences",
        sa.Column("reason_code", sa.String(32), nullable=False, server_default=sa.text("'unspecified'")),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("occurrences", "reason_code")
