"""Row filters of GET /datasets/{id}/rows, on the reader itself: text filters match text, not LIKE patterns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import msgspec
import pytest

from app.domain.cell_cuts import CELL_BYTES
from app.domain.dataset_reader import MIN_CELL_CHARS, PAGE_BYTES, ROW_CELL_CHARS, ROW_TEXT_CHARS, Reader
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


def _written(parquet: Path, query: str) -> Path:
    """`parquet`, written with the rows of `query`."""
    conn = duckdb.connect()
    try:
        conn.execute(f"COPY ({query}) TO '{parquet}' (FORMAT parquet)")
    finally:
        conn.close()
    return parquet


def test_a_page_cuts_long_text_cells_and_lists_them(tmp_path: Path) -> None:
    """A 50 MB cell made a 50 MB page; the page holds ROW_CELL_CHARS of it, says so, and sorts by the whole."""
    parquet = _written(
        tmp_path / "long.parquet",
        "SELECT * FROM (VALUES (1, repeat('说', 30000) || 'b', '[1]'::JSON, 2.5::DOUBLE), "
        "(2, repeat('说', 30000) || 'a', ('[' || repeat('0,', 6000) || '0]')::JSON, 1.5), "
        "(3, 'short', NULL::JSON, NULL)) t(id, note, doc, amount)",
    )
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


def _wide(tmp_path: Path, rows: int, columns: int, chars: int) -> Path:
    parquet = tmp_path / "wide.parquet"
    cells = ", ".join(f"repeat(chr((97 + i % 26)::INTEGER), {chars}) AS c{c}" for c in range(columns))
    conn = duckdb.connect()
    try:
        conn.execute(f"COPY (SELECT i, {cells} FROM range({rows}) t(i)) TO '{parquet}' (FORMAT parquet)")
    finally:
        conn.close()
    return parquet


def test_a_page_of_wide_rows_stops_at_page_bytes_and_says_where_the_next_starts(tmp_path: Path) -> None:
    """A page of `limit` rows of many 10,000-character cells was as large as they were (10,000 rows of 20 such
    cells: 2 GB); it stops at PAGE_BYTES of JSON and `next_offset` continues it, every row once."""
    parquet = _wide(tmp_path, rows=200, columns=20, chars=ROW_CELL_CHARS)
    seen: list[int] = []
    offset: int | None = 0
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="256MB", threads=1)) as reader:
        while offset is not None:
            page = reader.rows(offset=offset, limit=10_000, columns=None, order_by=[], filters=[])
            assert len(msgspec.json.encode(page["rows"])) <= PAGE_BYTES
            assert page["total"] == 200
            assert page["cell_chars"] == ROW_CELL_CHARS
            seen += [row[0] for row in page["rows"]]
            offset = page["next_offset"]
            assert offset is None or offset == seen[-1] + 1
    assert seen == list(range(200))
    assert 200 * 20 * ROW_CELL_CHARS > PAGE_BYTES * 4  # several pages


def test_a_row_of_many_text_columns_cuts_each_shorter(tmp_path: Path) -> None:
    """A row of 200 text columns of 10,000 characters was 2 M characters, whatever the page's limit; its cells
    are cut to a share of ROW_TEXT_CHARS, said in `cell_chars` and listed in `truncated`."""
    parquet = _wide(tmp_path, rows=2, columns=200, chars=ROW_CELL_CHARS)
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="256MB", threads=1)) as reader:
        page = reader.rows(offset=0, limit=1, columns=None, order_by=[], filters=[])
    cut = max(MIN_CELL_CHARS, ROW_TEXT_CHARS // 200)
    assert page["cell_chars"] == cut < ROW_CELL_CHARS
    assert page["rows"][0][1] == "a" * cut
    assert len(page["truncated"]) == 200
    assert page["truncated"][0] == {"row": 0, "column": "c0", "chars": 10_000}
    assert page["next_offset"] == 1


def test_a_page_cuts_list_struct_map_and_binary_cells_and_lists_them(tmp_path: Path) -> None:
    """A row whose LIST cell held 2 M items was fetched and sent whole (about 15 MB of JSON, one row is always
    sent), as were long struct, map and binary cells; each is cut in the query to CELL_BYTES and listed in
    `truncated` with its whole size. A VARCHAR[] column is a list, not text (left() on it was an error)."""
    parquet = _written(
        tmp_path / "nested.parquet",
        "SELECT i AS id, CASE WHEN i = 0 THEN range(2000000) ELSE [i] END AS big, "
        "{'a': repeat('x', 100000), 'n': i} AS st, map(['k' || i], [repeat('v', 100000)]) AS m, "
        "repeat('z', 100000)::BLOB AS bin, [repeat('q', 100000)] AS texts FROM range(2) t(i)",
    )
    with Reader(parquet, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as reader:
        page = reader.rows(offset=0, limit=10, columns=None, order_by=["-id"], filters=[])
    assert [row[0] for row in page["rows"]] == [1, 0]
    for row in page["rows"]:
        assert len(msgspec.json.encode(row)) < 6 * CELL_BYTES
    first = page["rows"][1]
    assert first[1] == list(range(len(first[1])))
    assert 0 < len(first[1]) < 2_000_000
    assert first[2]["n"] == 0
    assert first[2]["a"] == "x" * len(first[2]["a"])
    assert len(first[2]["a"]) < 100_000
    assert first[3]["k0"].startswith("vvv")
    assert len(first[3]["k0"]) < 100_000
    assert 0 < len(first[4]) < 100_000
    assert 0 < len(first[5][0]) < 100_000
    assert page["rows"][0][1] == [1]
    assert page["truncated"] == [
        {"row": 0, "column": "st"},
        {"row": 0, "column": "m", "items": 1},
        {"row": 0, "column": "bin", "bytes": 100_000},
        {"row": 0, "column": "texts", "items": 1},
        {"row": 1, "column": "big", "items": 2_000_000},
        {"row": 1, "column": "st"},
        {"row": 1, "column": "m", "items": 1},
        {"row": 1, "column": "bin", "bytes": 100_000},
        {"row": 1, "column": "texts", "items": 1},
    ]
