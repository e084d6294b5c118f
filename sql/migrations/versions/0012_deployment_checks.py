"""Occurrences may record `plan_failed`: a fire time the scheduler could not plan or write (a bad deployment row).

The schedule loop isolates such a deployment (the others keep firing) and
records why in the occurrence's reason, so "why didn't it run?" has an answer.

Revision ID: 0012_deployment_checks
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0012_deployment_checks"
down_revision = "0011"
branch_labels = None
depends_on = None

BEFORE = ("run", "misfire_skipped", "coalesced", "overlap_skipped", "paused", "dst_skipped", "buffered")
AFTER = (*BEFORE, "plan_failed")


def _outcome_check(values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_occurrences_outcome"), "occurrences", type_="check")
    allowed = ", ".join(repr(v) for v in values)
    op.create_check_constraint(op.f("ck_occurrences_outcome"), "occurrences", f"outcome IN ({allowed})")


def upgrade() -> None:
    _outcome_check(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM occurrences WHERE outcome = 'plan_failed'")
    _outcome_check(BEFORE)
