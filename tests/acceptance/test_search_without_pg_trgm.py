"""On the embedded server (`make run`'s pgserver, which ships no pg_trgm) migration 0026 skips the trigram indexes,
the migration says so once (not again at each start), and the lists' `?search=` gives the answers it gives with them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.db import migrate
from app.domain.datasets import DatasetFilters, list_datasets
from app.domain.permissions import Principal
from app.settings import Settings
from tests.acceptance.own_postgres import OwnPostgres

ADMIN = Principal(user_id=uuid.UUID(int=0), username="test", is_superuser=True)


@pytest.fixture
def embedded() -> Iterator[str]:
    """The SQLAlchemy URL of database `conveyor` on an embedded server of the test's own."""
    server = OwnPostgres().start()
    try:
        yield Settings(database_url=server.admin_url.replace("/postgres?", "/conveyor?")).sqlalchemy_url
    finally:
        server.close()


def test_the_migration_skips_the_trigram_indexes_and_search_still_answers(
    embedded: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server without pg_trgm
    engine = create_engine(embedded)
    with engine.connect() as connection:
        available = connection.execute(text("SELECT name FROM pg_available_extensions")).scalars().all()
    assert "pg_trgm" not in available
    # When the database is migrated to head
    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        migrate.upgrade(embedded)
    # Then it was said once why there is no trigram index (0026 and the migrate step each said it), and the rest
    # was made
    said = [r.getMessage() for r in caplog.records if "pg_trgm" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("pg_trgm is not available on this server: no trigram indexes")
    # And a restart of the system (restart=True), with nothing to migrate, does not say it again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        migrate.upgrade(embedded, restart=True)
    assert "pg_trgm" not in caplog.text
    with engine.begin() as connection:
        indexes = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
        assert not {name for name in indexes if name.endswith("_trgm")}
        assert "ix_uploads_created" in indexes
        assert migrate.current_revision(engine) == migrate.head_revision()
        connection.execute(
            text("""
            INSERT INTO datasets (id, namespace_id, name, source, status)
            SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), name, 'uploaded', 'ready'
            FROM unnest(CAST(:names AS text[])) AS t(name)"""),
            {"names": ["100%_done", "100x_done", "销售数据集", "Nightly_Costs"]},
        )
    # And a search answers as the indexed one does: case folded, `%` and `_` literal, Chinese as typed
    with Session(engine) as session:
        for word, expected in [("100%", ["100%_done"]), ("x_d", ["100x_done"]), ("销售", ["销售数据集"])]:
            found = list_datasets(session, ADMIN, DatasetFilters(search=word), limit=50, cursor=None)
            assert [d.name for d in found] == expected, word
        found = list_datasets(session, ADMIN, DatasetFilters(search="COSTS"), limit=50, cursor=None)
        assert [d.name for d in found] == ["Nightly_Costs"]
    # And it goes back down as cleanly
    migrate.downgrade(embedded, "0025_version_attempts")
    engine.dispose()
