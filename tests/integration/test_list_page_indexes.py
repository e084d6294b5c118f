"""Migration 0027: a page of API tokens (one's own, a namespace's), of invites or of a namespace's members reads the
index of its order, not every row sorted."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.domain.api_tokens import list_api_tokens
from app.domain.invites import list_invites
from app.domain.members import list_members
from app.domain.permissions import Principal
from app.settings import Settings
from tests.plan_support import answered_with_plan
from tests.servers import TestServers

OWNER = uuid.UUID(int=7)
ROWS = 20_000


@pytest.fixture(scope="module")
def many(servers: TestServers) -> Iterator[Engine]:
    """A database of the module's own at head: a user with ROWS API tokens (and as many access tokens), ROWS
    invites, ROWS members of `default`; analysed."""
    url = servers.create_migrated_database()
    engine = create_engine(Settings(database_url=url).sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(
            text("""
            INSERT INTO users (id, username, password_hash, created_at)
            SELECT CASE WHEN g = 0 THEN CAST(:owner AS uuid) ELSE gen_random_uuid() END, 'u' || g, 'x',
                   now() - g * interval '1 second'
            FROM generate_series(0, :rows) g"""),
            {"owner": str(OWNER), "rows": ROWS},
        )
        connection.execute(
            text("""
            INSERT INTO auth_tokens (id, token_hash, kind, user_id, family_id, name, namespace_id, role, created_at)
            SELECT gen_random_uuid(), md5(g::text || k), k, :owner, gen_random_uuid(),
                   CASE WHEN k = 'api' THEN 't' || g END,
                   CASE WHEN k = 'api' THEN (SELECT id FROM namespaces WHERE name = 'default') END,
                   CASE WHEN k = 'api' THEN 'viewer' END, now() - g * interval '1 second'
            FROM generate_series(1, :rows) g, unnest(ARRAY['api', 'access']) k"""),
            {"owner": str(OWNER), "rows": ROWS},
        )
        connection.execute(
            text("""
            INSERT INTO invites (id, token_hash, created_at, expires_at)
            SELECT gen_random_uuid(), md5('i' || g), now() - g * interval '1 second', now() + interval '1 day'
            FROM generate_series(1, :rows) g"""),
            {"rows": ROWS},
        )
        connection.execute(
            text("""
            INSERT INTO namespace_members (namespace_id, user_id, role, created_at)
            SELECT (SELECT id FROM namespaces WHERE name = 'default'), id, 'viewer', created_at FROM users"""),
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    yield engine
    engine.dispose()
    servers.drop_database(url)


def default_id(engine: Engine) -> uuid.UUID:
    with engine.connect() as connection:
        return connection.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()


LISTS: dict[str, tuple[str, str, Callable[[Session, Engine], Any]]] = {
    "own tokens": (
        "auth_tokens",
        "ix_auth_tokens_api_user",
        lambda s, e: list_api_tokens(s, Principal(user_id=OWNER, username="u0"), limit=50),
    ),
    "a namespace's tokens": (
        "auth_tokens",
        "ix_auth_tokens_api_namespace",
        lambda s, e: list_api_tokens(
            s, Principal(user_id=uuid.UUID(int=0), username="root", is_superuser=True), namespace="default", limit=50
        ),
    ),
    "invites": ("invites", "ix_invites_created", lambda s, e: list_invites(s, limit=50)),
    "members": (
        "namespace_members",
        "ix_namespace_members_created",
        lambda s, e: list_members(s, default_id(e), limit=50),
    ),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_a_page_reads_the_index_of_its_order(many: Engine, name: str) -> None:
    table, index, call = LISTS[name]
    rows, plan = answered_with_plan(many, table, lambda s: call(s, many))
    assert len(rows) == 51
    assert index in plan, plan
    assert "Sort" not in plan, plan
