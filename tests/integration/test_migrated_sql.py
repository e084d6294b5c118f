"""The migrations build what sql/ says: each revision applies its own copy of a view or function, so a file edited
without a new revision would leave databases behind it; these tests catch that."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from app.db import migrate
from app.db.queries import sql_file
from app.settings import Settings
from tests.servers import TestServers

SQL = Path(__file__).parents[2] / "sql"

#: Every view, function and trigger of the public schema, as Postgres prints it back.
DEFINITIONS = text("""
    SELECT 'view ' || c.relname, pg_get_viewdef(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'v'
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text, pg_get_functiondef(p.oid)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.prokind = 'f'
    UNION ALL
    SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT t.tgisinternal
""")


def _definitions(connection: Connection) -> dict[str, str]:
    return {name: definition for name, definition in connection.execute(DEFINITIONS).all()}


@pytest.fixture
def scratch_url(servers: TestServers) -> Iterator[str]:
    url = servers.create_database()
    yield Settings(database_url=url).sqlalchemy_url
    servers.drop_database(url)


def test_applying_todays_views_and_functions_to_a_database_at_head_changes_nothing(engine: Engine) -> None:
    # Given the test database, built by the migrations
    with engine.connect() as connection:
        built = _definitions(connection)
        # When every file of sql/views and sql/functions is applied on top (and rolled back)
        for path in sorted([*(SQL / "views").glob("*.sql"), *(SQL / "functions").glob("*.sql")]):
            connection.execute(text(sql_file(path)))
        applied = _definitions(connection)
        connection.rollback()
    # Then nothing reads differently: no file was edited without a revision that applies the edit
    assert {name for name in built if built[name] != applied.get(name)} == set()
    assert applied.keys() == built.keys()


def _cancelled_while_queued_for_a_retry(connection: Connection) -> object:
    """A final run whose last start predates its new queueing (the case 0023's run_facts gives no wait)."""
    return connection.execute(
        text("""
        INSERT INTO runs (id, namespace_id, kind, trigger, status, params, priority, attempt, max_retries,
                          retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                          created_at, started_at, queued_at, finished_at)
        SELECT gen_random_uuid(), id, 'pipeline', 'api', 'CANCELLED', '{}', 0, 1, 1, 10, 600, 0.2, 3600,
               now() - interval '2 minutes', now() - interval '1 minute', now() - interval '10 s', now()
        FROM namespaces WHERE name = 'default'
        RETURNING id""")
    ).scalar_one()


def test_a_database_built_before_the_queue_wait_fix_gets_it_and_a_rollup_that_agrees(scratch_url: str) -> None:
    # Given a database at 0021, whose run_facts is 0010's, and a run it counted with a negative queue wait
    engine = create_engine(scratch_url)
    migrate.upgrade(scratch_url, "0021_occurrence_reason_codes")
    with engine.begin() as connection:
        run_id = _cancelled_while_queued_for_a_retry(connection)
    waits = text(
        "SELECT (SELECT queue_wait_seconds FROM run_facts WHERE run_id = :id),"
        " (SELECT sum(wait_n) FROM run_rollup_changes WHERE run_id = :id)"
    )
    with engine.connect() as connection:
        wait, counted = connection.execute(waits, {"id": run_id}).one()
    assert wait < 0
    assert counted == 1
    # When it is upgraded to head
    migrate.upgrade(scratch_url)
    # Then the view gives no wait, and the rollup it feeds was rebuilt from it
    with engine.connect() as connection:
        assert tuple(connection.execute(waits, {"id": run_id}).one()) == (None, 0)
    # And going back restores 0010's view and a rollup that agrees with it
    migrate.downgrade(scratch_url, "0021_occurrence_reason_codes")
    with engine.connect() as connection:
        wait, counted = connection.execute(waits, {"id": run_id}).one()
    assert wait < 0
    assert counted == 1
    engine.dispose()
