"""Webhook capture triggers build no payload when no subscription wants the event (one index probe per run).

The run trigger built the whole JSON payload for every run that ended, then found no subscription to
write it for; sql/functions/webhook_capture.sql now asks webhooks_wanted first.

Revision ID: 0016_engine_webhook_probe
Revises: 0015_webhooks_tables
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

from app.db.queries import SQL_ROOT, sql_file

revision = "0016_engine_webhook_probe"
down_revision = "0015_webhooks_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sql_file(SQL_ROOT / "functions" / "webhook_capture.sql"))


def downgrade() -> None:
    # The probing functions write exactly the deliveries the old ones wrote; 0015's downgrade drops them all.
    pass
