"""Bounded DuckDB work: the connections opened in a block are interrupted at its time limit, and a hit time or
memory limit is one clear error (`query_too_expensive`), whatever the interrupted code made of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from app.ingest.bounded import QueryTooExpensive, bounded
from app.ingest.config import DuckDBSettings
from app.ingest.duck import connect
from app.ingest.errors import ImportFailed

HUGE = "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"


def limited(seconds: float | None, memory: str = "256MB") -> DuckDBSettings:
    return DuckDBSettings(memory_limit=memory, threads=1, time_limit_seconds=seconds)


def in_block(settings: DuckDBSettings, work: Path, body: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
    """`body` on a connection opened inside a bounded block, as a request handler would do it."""
    with bounded(settings):
        conn = connect(settings, readable=[], writable=[str(work)])
        try:
            return body(conn)
        finally:
            conn.close()


def forever(conn: duckdb.DuckDBPyConnection) -> None:
    while True:
        conn.execute("SELECT count(*) FROM range(200000)").fetchall()


def as_read_error(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.execute(HUGE).fetchall()
    except duckdb.Error as exc:  # as a preview does: a read error of the file
        raise ImportFailed(f"could not read: {exc}") from exc


@pytest.mark.timeout(60)
def test_a_query_over_the_time_limit_is_interrupted(tmp_path: Path) -> None:
    with pytest.raises(QueryTooExpensive) as caught:
        in_block(limited(0.2), tmp_path, lambda conn: conn.execute(HUGE).fetchall())
    assert (caught.value.status, caught.value.code) == (422, "query_too_expensive")
    assert isinstance(caught.value.__cause__, duckdb.InterruptException)


@pytest.mark.timeout(60)
def test_many_short_statements_are_stopped_too(tmp_path: Path) -> None:
    """An interrupt that lands between two statements is lost in DuckDB; the block is interrupted again."""
    with pytest.raises(QueryTooExpensive):
        in_block(limited(0.2), tmp_path, forever)


@pytest.mark.timeout(60)
def test_an_error_made_of_the_interrupt_is_still_the_time_limit(tmp_path: Path) -> None:
    with pytest.raises(QueryTooExpensive):
        in_block(limited(0.2), tmp_path, as_read_error)


def test_running_out_of_memory_is_the_memory_limit(tmp_path: Path) -> None:
    with pytest.raises(QueryTooExpensive) as caught:
        in_block(
            limited(None, "64MB"), tmp_path, lambda c: c.execute("SELECT list(i) FROM range(100000000) t(i)").fetchall()
        )
    assert "64MB memory limit" in caught.value.detail


def test_work_within_the_limits_and_other_errors_pass_through(tmp_path: Path) -> None:
    assert in_block(limited(30), tmp_path, lambda conn: conn.execute("SELECT 42").fetchall()) == [(42,)]
    with pytest.raises(duckdb.CatalogException):
        in_block(limited(30), tmp_path, lambda conn: conn.execute("SELECT * FROM no_such_table").fetchall())
