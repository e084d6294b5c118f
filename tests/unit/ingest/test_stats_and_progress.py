"""Dataset figures from the written Parquet, and progress reports while importing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import msgspec
import pytest

from app.api.dataset_schemas import ColumnOut
from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_csv, import_file
from app.ingest.duck import column_stats, duckdb_reason
from app.ingest.import_job import held
from app.ingest.models import BOUND_CHARS


def test_stats_from_the_footer_match_a_full_scan(tmp_path: Path, run_import):
    path = tmp_path / "a.json"
    long_text = "z" * 300
    records = [
        {"n": 3, "s": "b", "long": long_text, "nothing": None, "tags": [1]},
        {"n": -1, "s": None, "long": "a", "nothing": None, "tags": None},
        {"n": 10, "s": "a", "long": long_text + "y", "nothing": None, "tags": [2, 3]},
    ]
    path.write_text(json.dumps(records))
    result = run_import(path)
    by_name = {c.name: c for c in result.columns}
    assert (by_name["n"].nulls, by_name["n"].min, by_name["n"].max) == (0, "-1", "10")
    assert (by_name["s"].nulls, by_name["s"].min, by_name["s"].max) == (1, "a", "b")
    assert (by_name["long"].min, by_name["long"].max) == ("a", "z" * BOUND_CHARS + "…")  # cut: see the next test
    assert by_name["nothing"].nulls == 3
    assert (by_name["tags"].type, by_name["tags"].nulls) == ("json", 1)
    rows, stats = column_stats(duckdb.connect(), result.data_path)
    assert rows == result.rows == 3
    assert stats == result.columns


def test_a_long_cell_is_cut_in_the_figures_not_in_the_data(tmp_path: Path, run_import):
    """The figures go with the dataset into every page that shows it (lists too): a 3 MB max stays 201 chars."""
    path = tmp_path / "a.csv"
    path.write_text("id,note\n1,short\n2," + "z" * 3_000_000 + "\n")
    result = run_import(path)
    note = {c.name: c for c in result.columns}["note"]
    assert (note.min, note.max) == ("short", "z" * BOUND_CHARS + "…")
    assert (
        len(duckdb.connect().execute("SELECT max(note) FROM read_parquet(?)", [result.data_path]).fetchone()[0])
        == 3_000_000
    )
    stored = {"name": "note", "type": "string", "nulls": 0, "min": "a", "max": "y" * 5000}  # recorded before the cut
    assert msgspec.convert(stored, ColumnOut).max == "y" * BOUND_CHARS + "…"


def test_progress_is_reported_up_to_the_whole_file(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(5000)))
    seen: list[tuple[int, int, int]] = []
    result = import_file(
        path,
        filename="a.csv",
        config=ImportConfig(),
        limits=ImportLimits(),
        out_dir=tmp_path / "out",
        duckdb_settings=DuckDBSettings(threads=1),
        progress=lambda rows, done, total: seen.append((rows, done, total)),
    )
    assert seen[-1] == (5000, result.bytes_read, path.stat().st_size)
    assert all(done <= total for _, done, total in seen)


class _CountingConnection:
    """A DuckDB connection that counts the statements reading the Parquet footer."""

    def __init__(self) -> None:
        self.conn = duckdb.connect()
        self.footer_reads = 0

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self.footer_reads += "parquet_metadata(" in sql
        return self.conn.execute(sql, *args)


def test_a_wide_table_reads_its_footer_once_per_column_type_and_matches_a_full_scan(tmp_path: Path):
    """One footer query per column made a 16,384-column sheet's figures take hours, past the run's timeout."""
    path = tmp_path / "wide.parquet"
    columns = [
        *(f"{i} AS i{i}" for i in range(200)),
        *(f"CASE WHEN g % 2 = 0 THEN NULL ELSE 'v' || ({i} * g) END AS s{i}" for i in range(200)),
        *(f"[g, {i}] AS l{i}" for i in range(50)),
        "g || repeat('z', 300) AS long_text",  # min/max not exact in the footer: scanned
    ]
    duckdb.connect().execute(f"COPY (SELECT {', '.join(columns)} FROM range(1, 6) t(g)) TO '{path}' (FORMAT parquet)")
    counting = _CountingConnection()
    rows, stats = column_stats(counting, path)  # type: ignore[arg-type]
    assert rows == 5
    assert counting.footer_reads <= 1 + 4  # the row count, then one per type (integer, text, list)
    by_name = {c.name: c for c in stats}
    assert (by_name["i7"].nulls, by_name["i7"].min, by_name["i7"].max) == (0, "7", "7")
    assert (by_name["s3"].nulls, by_name["s3"].min, by_name["s3"].max) == (2, "v15", "v9")
    assert (by_name["l1"].type, by_name["l1"].nulls) == ("json", 0)
    cut = "z" * (BOUND_CHARS - 1) + "…"
    assert (by_name["long_text"].min, by_name["long_text"].max) == ("1" + cut, "5" + cut)


def test_duckdb_messages_name_no_server_path():
    """A lone-CR CSV or a JSON with a duplicate key showed API clients the data root and the upload's id."""
    sniffing = duckdb.InvalidInputException('Error when sniffing file "/srv/conveyor/data/tmp/x/head.csv".')
    transform = duckdb.InvalidInputException('JSON transform error in file "/srv/data/uploads/c8/ab/data", in record 1')
    assert duckdb_reason(sniffing) == "Error when sniffing file."
    assert "/srv" not in duckdb_reason(transform)
    assert duckdb_reason(transform) == "JSON transform error in file, in record 1"


def test_the_figures_of_a_column_after_a_nested_one_are_its_own(tmp_path: Path):
    """A map, a union or a struct of several fields is several columns in the footer: the figures of every column
    after one were another column's (a text column showed the min and max of a list's numbers)."""
    path = tmp_path / "nested.parquet"
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES (1, MAP {'k': 'v'}, union_value(n := 3), {'a': 1, 'b': {'c': 2, 'd': [7]}}, "
        "[[8, 9]], 'x', NULL::INTEGER), (2, NULL, NULL, NULL, NULL, 'y', 5)) t(id, attrs, either, s, l, z, late)) "
        f"TO '{path}' (FORMAT parquet)"
    )
    _, stats = column_stats(duckdb.connect(), path)
    figures = {c.name: (c.nulls, c.min, c.max) for c in stats if c.type != "json"}
    assert figures == {"id": (0, "1", "2"), "z": (0, "x", "y"), "late": (1, "5", "5")}


def test_a_csv_read_again_for_its_mixed_line_ends_does_not_send_progress_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's reader fails on the first row ending unlike those before it (LF rows a script appended to a CRLF
    export), and the file is read again with its line ends as LF: that read reported from 0 again, after the first
    had reported up to where it failed."""
    path = tmp_path / "appended.csv"
    text = "id,note\r\n" + "".join(f"{i},row{i}\r\n" for i in range(30_000)) + "".join(f"{i},tail\n" for i in range(5))
    path.write_bytes(text.encode())
    real_run = import_csv.run

    def run(conn, sql, *, should_stop, on_progress):  # the first read got to 90% before it failed
        on_progress(90.0)
        return real_run(conn, sql, should_stop=should_stop, on_progress=on_progress)

    monkeypatch.setattr(import_csv, "run", run)
    seen: list[tuple[int, int, int]] = []
    result = import_file(
        path,
        filename=path.name,
        config=ImportConfig(),
        limits=ImportLimits(),
        out_dir=tmp_path / "out",
        duckdb_settings=DuckDBSettings(threads=1),
        progress=lambda rows, done, total: seen.append((rows, done, total)),
    )
    assert result.rows == 30_005  # read again, as LF
    done = [d for _, d, _ in seen]
    assert done[0] == int(path.stat().st_size * 0.9)
    assert done == sorted(done)
    assert seen[-1] == (30_005, path.stat().st_size, path.stat().st_size)


def test_held_progress_reports_the_most_done_so_far() -> None:
    seen: list[tuple[int, int, int]] = []
    report = held(lambda rows, done, total: seen.append((rows, done, total)))
    for done in (10, 60, 0, 30, 80):
        report(0, done, 100)
    report(7, 100, 100)
    assert seen == [(0, 10, 100), (0, 60, 100), (0, 60, 100), (0, 60, 100), (0, 80, 100), (7, 100, 100)]
