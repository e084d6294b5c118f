"""Totals of GET /datasets/{id}/rows without a count per page: the same totals, rows and order as counting every
time, a short page needing no count, and the remembered count kept bounded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from app.domain.dataset_reader import Reader
from app.domain.row_totals import TOTALS, TotalCache
from app.ingest.config import DuckDBSettings

ROWS = 5_000


@pytest.fixture
def reader(tmp_path: Path):  # type: ignore[no-untyped-def]
    """ROWS rows: id, category c0..c6, amount (scattered), note (null every 11th row)."""
    parquet = tmp_path / "data.parquet"
    conn = duckdb.connect()
    try:
        conn.execute(
            f"""COPY (SELECT i AS id, 'c' || (i % 7) AS category, (i * 7919) % 1000 / 10.0 AS amount,
                        CASE WHEN i % 11 = 0 THEN NULL ELSE 'note ' || (i % 13) END AS note
                      FROM range({ROWS}) t(i)) TO '{parquet}' (FORMAT parquet, ROW_GROUP_SIZE 1000)"""
        )
    finally:
        conn.close()
    TOTALS.clear()
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as opened:
        yield opened
    TOTALS.clear()


def counted(reader: Reader, filters: list[str]) -> int:
    """The total the way every page counted it before: one count(*) over the filtered file."""
    where, values = reader._where(filters)
    row = reader.conn.execute(f"SELECT count(*) FROM read_parquet(?){where}", [reader.path, *values]).fetchone()
    assert row is not None
    return int(row[0])


def expected_ids(filters: list[str], order_by: list[str]) -> list[int]:
    """The ids of every matching row in order, computed in Python."""
    rows = [(i, f"c{i % 7}", (i * 7919) % 1000 / 10.0, None if i % 11 == 0 else f"note {i % 13}") for i in range(ROWS)]
    checks = {
        "category:eq:c3": lambda r: r[1] == "c3",
        "amount:gt:90": lambda r: r[2] > 90,
        "note:is_null": lambda r: r[3] is None,
        "note:contains:NOTE 1": lambda r: r[3] is not None and "note 1" in r[3],
    }
    kept = [r for r in rows if all(checks[f](r) for f in filters)]
    if order_by == ["-amount", "id"]:
        kept.sort(key=lambda r: (-r[2], r[0]))
    return [r[0] for r in kept]


@pytest.mark.parametrize(
    ("filters", "order_by"),
    [
        ([], ["id"]),
        ([], []),
        (["category:eq:c3"], []),
        (["category:eq:c3", "amount:gt:90"], []),
        (["note:contains:NOTE 1"], []),
        (["category:eq:c3"], ["id"]),
        (["amount:gt:90"], ["-amount", "id"]),
        (["category:eq:c3", "amount:gt:90"], ["id"]),
        (["note:is_null"], ["id"]),
        (["note:contains:NOTE 1", "category:eq:c3"], ["-amount", "id"]),
    ],
)
def test_pages_and_totals_are_those_of_a_full_count(reader: Reader, filters: list[str], order_by: list[str]) -> None:
    ids = expected_ids(filters, order_by)
    assert counted(reader, filters) == len(ids)
    pages = [(0, 100), (0, 100), (100, 100), (997, 333), (len(ids) - 5, 100), (len(ids), 10), (len(ids) + 50, 10)]
    for offset, limit in pages:
        page = reader.rows(offset=offset, limit=limit, columns=["id"], order_by=order_by, filters=filters)
        assert page["total"] == len(ids), (offset, limit)
        assert [row[0] for row in page["rows"]] == ids[offset : offset + limit]


def test_a_version_with_its_own_file_row_number_column_pages_the_one_query_way(tmp_path: Path) -> None:
    parquet = tmp_path / "data.parquet"
    duckdb.sql(
        f"COPY (SELECT i AS file_row_number, i * 2 AS twice FROM range(300) t(i)) TO '{parquet}' (FORMAT parquet)"
    )
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as reader:
        page = reader.rows(offset=100, limit=3, columns=None, order_by=[], filters=["twice:ge:100"])
    assert (page["rows"], page["total"]) == ([[150, 300], [151, 302], [152, 304]], 250)


def test_a_short_first_page_needs_no_count_and_a_full_one_counts_once(reader: Reader) -> None:
    reader.rows(offset=0, limit=10_000, columns=["id"], order_by=[], filters=["category:eq:c3"])
    assert len(TOTALS._totals) == 0  # the page held every match: its length is the total
    for _ in range(3):
        page = reader.rows(offset=0, limit=10, columns=["id"], order_by=[], filters=["category:eq:c3"])
        assert page["total"] == len(expected_ids(["category:eq:c3"], []))
    assert len(TOTALS._totals) == 1
    page = reader.rows(offset=0, limit=10, columns=["id"], order_by=[], filters=["category:eq:c4"])
    assert (len(TOTALS._totals), page["total"]) == (2, len([i for i in range(ROWS) if i % 7 == 4]))


def test_the_cache_forgets_the_least_recently_used_total() -> None:
    cache = TotalCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert cache.total("d", lambda: 4) == 4
    assert cache.total("d", lambda: pytest.fail("counted again")) == 4
