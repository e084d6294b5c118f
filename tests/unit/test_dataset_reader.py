"""Row filters of GET /datasets/{id}/rows, on the reader itself: text filters match text, not LIKE patterns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from app.domain.dataset_reader import ROW_CELL_CHARS, Reader
from app.ingest.config import DuckDBSettings

NAMES = ["100% cotton", "50_50 blend", "plain", "Silk_Road", "a\\b"]


@pytest.fixture
def reader(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A version holding one row per name in NAMES (column `name`), and a number column `n`."""
    parquet = tmp_path / "data.parquet"
    conn = duckdb.connect()
    try:
        conn.execute(
            f"COPY (SELECT name, i AS n FROM unnest(?) WITH ORDINALITY AS t(name, i)) TO '{parquet}' (FORMAT parquet)",
            [NAMES],
        )
    finally:
        conn.close()
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as opened:
        yield opened


def names(reader: Reader, *filters: str) -> list[str]:
    page = reader.rows(offset=0, limit=100, columns=["name"], order_by=["n"], filters=list(filters))
    return [row[0] for row in page["rows"]]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("name:contains:%", ["100% cotton"]),
        ("name:contains:_", ["50_50 blend", "Silk_Road"]),
        ("name:starts_with:_", []),
        ("name:starts_with:%", []),
        ("name:contains:\\", ["a\\b"]),
        ("name:starts_with:silk_", ["Silk_Road"]),
        ("name:contains:COTTON", ["100% cotton"]),
        ("n:contains:3", ["plain"]),
    ],
)
def test_text_filters_match_the_text_as_written(reader: Reader, filter_: str, expected: list[str]) -> None:
    assert names(reader, filter_) == expected


def test_comparison_filters_still_cast_the_value_to_the_column_type(reader: Reader) -> None:
    assert names(reader, "n:ge:4") == ["Silk_Road", "a\\b"]
    assert names(reader, "name:eq:plain", "n:lt:10") == ["plain"]
    assert names(reader, "name:is_null") == []


def test_a_page_cuts_long_text_cells_and_lists_them(tmp_path: Path) -> None:
    """A 50 MB cell made a 50 MB page; the page holds ROW_CELL_CHARS of it, says so, and sorts by the whole."""
    parquet = tmp_path / "long.parquet"
    conn = duckdb.connect()
    try:
        conn.execute(
            f"COPY (SELECT * FROM (VALUES (1, repeat('说', 30000) || 'b', '[1]'::JSON, 2.5::DOUBLE), "
            f"(2, repeat('说', 30000) || 'a', ('[' || repeat('0,', 6000) || '0]')::JSON, 1.5), "
            f"(3, 'short', NULL::JSON, NULL)) t(id, note, doc, amount)) TO '{parquet}' (FORMAT parquet)"
        )
    finally:
        conn.close()
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as reader:
        page = reader.rows(offset=0, limit=10, columns=None, order_by=["note"], filters=[])
    assert [row[0] for row in page["rows"]] == [3, 2, 1]  # by the whole value: …a before …b (cut, they tie)
    assert page["rows"][0][1:] == ["short", None, None]
    assert page["rows"][1][1:] == ["说" * ROW_CELL_CHARS, "[" + "0," * 4999 + "0", 1.5]
    assert page["rows"][2][1:] == ["说" * ROW_CELL_CHARS, "[1]", 2.5]
    assert page["truncated"] == [
        {"row": 1, "column": "note", "chars": 30_001},
        {"row": 1, "column": "doc", "chars": 12_003},
        {"row": 2, "column": "note", "chars": 30_001},
    ]
