"""Migration 0026: trigram (pg_trgm) indexes serve the lists' `?search=` on a server that has pg_trgm, and the
answers are the ones a read of every row gives: case folded, `%`, `_` and `\\` as typed, Chinese as typed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text

from app.db import migrate
from app.domain.datasets import DatasetFilters, list_datasets
from app.domain.permissions import Principal
from app.settings import Settings
from tests.plan_support import answered_with_plan
from tests.servers import TestServers

ADMIN = Principal(user_id=uuid.UUID(int=0), username="test", is_superuser=True)

#: Names with every character the search treats specially, several scripts, and one rare word.
NAMES = [
    "100%_done",
    "100x_done",
    "a\\b",
    "Straße",
    "ÉTÉ-report",
    "销售数据集",
    "数据",
    "Nightly_Costs",
    "nightlyXcosts",
    "quokka-sync",
]
#: Words of three letters or more in a row, which give trigrams the index is searched by.
LONG_WORDS = ["100%", "été", "STRASSE", "销售数据", "NIGHTLY", "costs", "quokka", "none-such", "100%_done"]
#: Words of fewer (`%`, `_`, `\\` split words): they give few trigrams or none, the planner may read the rows.
SHORT_WORDS = ["%", "_", "\\", "0%_", "x_d", "a\\b", "ÉT", "ß", "数据", "据", "y_c"]
FILLERS = 20_000

#: The planner's choices that leave one way to read the datasets: the trigram index, or every row.
BY_INDEX = ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off")
BY_ROWS = ("SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_indexscan = off")


@pytest.fixture(scope="module")
def named(servers: TestServers) -> Iterator[Engine]:
    """A database of the module's own at head, with NAMES and FILLERS other datasets, analysed."""
    url = servers.create_migrated_database()
    engine = create_engine(Settings(database_url=url).sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(
            text("""
            INSERT INTO datasets (id, namespace_id, name, source, status, created_at)
            SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), name, 'uploaded', 'ready',
                   now() - n * interval '1 second'
            FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(name, n)
            UNION ALL
            SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'filler-' || g, 'uploaded',
                   'ready', now() - interval '1 day' - g * interval '1 second'
            FROM generate_series(1, :fillers) g"""),
            {"names": NAMES, "fillers": FILLERS},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE datasets"))
    yield engine
    engine.dispose()
    servers.drop_database(url)


def searched(engine: Engine, word: str, settings: tuple[str, ...]) -> tuple[list[str], str]:
    """The names GET /datasets?search=`word` lists (as an admin, one page of 50), and the plan of its statement,
    with the planner `settings` in force."""
    return answered_with_plan(
        engine,
        "datasets",
        lambda s: [d.name for d in list_datasets(s, ADMIN, DatasetFilters(search=word), limit=50, cursor=None)],
        settings,
    )


def test_the_migration_makes_a_trigram_index_of_every_searched_name(named: Engine) -> None:
    with named.connect() as connection:
        indexes = dict(
            connection.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%_trgm'")).all()
        )
    assert set(indexes) == {
        "ix_pipelines_name_trgm",
        "ix_deployments_name_trgm",
        "ix_datasets_name_trgm",
        "ix_uploads_filename_trgm",
        "ix_webhook_subscriptions_url_trgm",
        "ix_webhook_subscriptions_description_trgm",
        "ix_users_username_trgm",
        "ix_users_email_trgm",
        "ix_auth_tokens_name_trgm",
    }
    assert all("USING gin" in d and "gin_trgm_ops" in d for d in indexes.values()), indexes


def test_a_rare_word_reads_the_trigram_index_not_every_dataset(named: Engine) -> None:
    # Given 20,010 datasets, one of them named with `quokka` (and one with the Chinese 销售数据)
    for word, expected in [("quokka", ["quokka-sync"]), ("QUOKKA", ["quokka-sync"]), ("销售数据", ["销售数据集"])]:
        # When the list is searched with the planner free to choose
        names, plan = searched(named, word, ())
        # Then it reads the trigram index
        assert names == expected
        assert "ix_datasets_name_trgm" in plan, plan
        assert "Seq Scan on datasets" not in plan, plan


@pytest.mark.parametrize("word", LONG_WORDS + SHORT_WORDS)
def test_the_index_finds_what_a_read_of_every_row_finds(named: Engine, word: str) -> None:
    # When the same search is answered without reading every row (from the trigram index, for a word long enough),
    # then by reading every row
    by_index, index_plan = searched(named, word, BY_INDEX)
    by_rows, rows_plan = searched(named, word, BY_ROWS)
    # Then both ways were taken, and both give the names that hold the word, case folded, every character literal
    assert "Seq Scan on datasets" not in index_plan, index_plan
    assert "ix_datasets_name_trgm" in index_plan or word in SHORT_WORDS, index_plan
    assert "Seq Scan on datasets" in rows_plan, rows_plan
    assert by_index == by_rows
    assert sorted(by_index) == sorted(name for name in NAMES if word.lower() in name.lower())


def test_a_role_that_may_not_create_pg_trgm_migrates_without_the_trigram_indexes(
    servers: TestServers, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a database whose migrating role may create tables but not extensions (not the database's owner)
    role = f"conveyor_no_ext_{uuid.uuid4().hex[:8]}"
    url = servers.create_database()
    with psycopg.connect(url, autocommit=True) as admin:
        usable = admin.execute(
            "SELECT rolsuper AND EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_trgm') FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        if not (usable and usable[0] and "://postgres@" in url):
            servers.drop_database(url)
            pytest.skip("needs pg_trgm, and a superuser `postgres` to make a role")
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
    as_role = Settings(database_url=url.replace("://postgres@", f"://{role}@", 1)).sqlalchemy_url
    try:
        # When it migrates to head
        with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
            migrate.upgrade(as_role)
        # Then the migration said once why it made no trigram index (0026 and the migrate step each said it), and
        # the rest of it (and of every revision) is there
        said = [r.getMessage() for r in caplog.records if "pg_trgm" in r.getMessage()]
        assert len(said) == 1, said
        assert said[0].startswith("pg_trgm could not be created (permission denied to create extension")
        assert "`?search=` reads whole tables" in said[0]
        # And `conveyor up` starting again, with nothing to migrate, does not say it again; `conveyor migrate` does
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
            migrate.upgrade(as_role, restart=True)
            assert "pg_trgm" not in caplog.text
            migrate.upgrade(as_role)
        assert "pg_trgm could not be created" in caplog.text
        engine = create_engine(as_role)
        with engine.connect() as connection:
            indexes = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
        assert not {name for name in indexes if name.endswith("_trgm")}
        assert "ix_uploads_created" in indexes
        assert migrate.current_revision(engine) == migrate.head_revision()
        engine.dispose()
    finally:
        servers.drop_database(url)
        with psycopg.connect(servers.postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
