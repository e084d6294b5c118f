"""Row filters of GET /datasets/{id}/rows, on the reader itself: text filters match text, not LIKE patterns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from app.domain.dataset_reader import Reader
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
