"""Deployment, run and occurrence times outside the years 1900-8999, stored before the API refused them, repaired.

An `end_at` of 9999-12-31T23:59:59-14:00 (year 10000 in UTC) or a backfilled run in 1 BC could not be read into
Python (psycopg DataError) and broke GET /deployments for everybody; a `start_at` before 1900 made every PATCH
answer 422 until it was changed. Each time is rewritten to what it meant, as app.scheduling.spec.window reads it:

- a start before 1900 began long ago: no start bound; a start from 9000 on is kept as late as the rule allows;
- an end from 9000 on never comes: no end bound; an end before 1900 is over already: 1900;
- a `once` time and the scheduler's cursors (`next_run_at`, `last_scheduled_for`, `paused_at`) are clamped into
  the years; an interval's anchor moves by whole intervals into 1900, so its fire times keep their phase;
- a run's `scheduled_for` outside the years is cleared (it names no calendar time; the run itself stays), and
  occurrences at such times are deleted (each is a fire time that cannot have been one).

The bounds are written out here, not imported: this repair is what they were at this revision.

Revision ID: 0018_representable_times
Revises: 0017_batch_captures
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0018_representable_times"
down_revision = "0017_batch_captures"
branch_labels = None
depends_on = None

EARLIEST = "'1900-01-01T00:00:00+00:00'::timestamptz"
LAST = "'8999-12-31T23:59:59+00:00'::timestamptz"
OUTSIDE = "({column} < {earliest} OR {column} > {last})"


def _outside(column: str) -> str:
    return OUTSIDE.format(column=column, earliest=EARLIEST, last=LAST)


def _clamped(column: str) -> str:
    return f"LEAST(GREATEST({column}, {EARLIEST}), {LAST})"


def _json_time(value: str) -> str:
    """A timestamptz as the API writes one into a schedule document (ISO 8601 with an offset)."""
    return f"""to_jsonb(to_char(({value}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))"""


def upgrade() -> None:
    op.execute(f"UPDATE deployments SET start_at = NULL WHERE start_at < {EARLIEST}")
    op.execute(f"UPDATE deployments SET start_at = {LAST} WHERE start_at > {LAST}")
    op.execute(f"UPDATE deployments SET end_at = NULL WHERE end_at > {LAST}")
    op.execute(f"UPDATE deployments SET end_at = {EARLIEST} WHERE end_at < {EARLIEST}")
    for column in ("next_run_at", "last_scheduled_for", "paused_at"):
        op.execute(f"UPDATE deployments SET {column} = {_clamped(column)} WHERE {_outside(column)}")
    at = "(schedule->>'at')::timestamptz"
    op.execute(
        f"UPDATE deployments SET schedule = jsonb_set(schedule, '{{at}}', {_json_time(_clamped(at))})"
        f" WHERE schedule->>'kind' = 'once' AND {_outside(at)}"
    )
    anchor, seconds = "(schedule->>'anchor')::timestamptz", "(schedule->>'seconds')::float8"
    # anchor - k * seconds with k = floor((anchor - 1900) / seconds): the first fire time in [1900, 1900 + seconds)
    moved = f"{anchor} - floor(extract(epoch FROM {anchor} - {EARLIEST}) / {seconds}) * {seconds} * interval '1 second'"
    op.execute(
        f"UPDATE deployments SET schedule = jsonb_set(schedule, '{{anchor}}', {_json_time(moved)})"
        f" WHERE schedule->>'kind' = 'interval' AND schedule->>'anchor' IS NOT NULL AND {_outside(anchor)}"
    )
    op.execute(f"UPDATE runs SET scheduled_for = NULL WHERE {_outside('scheduled_for')}")
    op.execute(f"DELETE FROM occurrences WHERE {_outside('scheduled_for')}")


def downgrade() -> None:
    """Nothing to undo: the times repaired could not be read before, and the old ones are not kept."""
