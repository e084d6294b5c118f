"""Indexes of the order of the lists that are now paged (newest first, keyset): one's API tokens, a namespace's API
tokens, invites, a namespace's members. Without them each page sorted every row of its list (a user's 5,000 tokens;
a namespace's tokens were found by reading every token, access and refresh ones included).

Revision ID: 0027_list_page_indexes
Revises: 0026_name_search_trigrams
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_list_page_indexes"
down_revision = "0026_name_search_trigrams"
branch_labels = None
depends_on = None

API = sa.text("kind = 'api'")


def upgrade() -> None:
    op.create_index("ix_auth_tokens_api_user", "auth_tokens", ["user_id", "created_at", "id"], postgresql_where=API)
    op.create_index(
        "ix_auth_tokens_api_namespace", "auth_tokens", ["namespace_id", "created_at", "id"], postgresql_where=API
    )
    op.create_index("ix_invites_created", "invites", ["created_at", "id"])
    op.create_index("ix_namespace_members_created", "namespace_members", ["namespace_id", "created_at", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_namespace_members_created", table_name="namespace_members")
    op.drop_index("ix_invites_created", table_name="invites")
    op.drop_index("ix_auth_tokens_api_namespace", table_name="auth_tokens")
    op.drop_index("ix_auth_tokens_api_user", table_name="auth_tokens")
