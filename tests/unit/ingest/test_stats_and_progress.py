"""Dataset figures from the written Parquet, and progress reports while importing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_file
from app.ingest.duck import column_stats


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
    assert (by_name["long"].min, by_name["long"].max) == ("a", long_text + "y")
    assert by_name["nothing"].nulls == 3
    assert (by_name["tags"].type, by_name["tags"].nulls) == ("json", 1)
    rows, stats = column_stats(duckdb.connect(), result.data_path)
    assert rows == result.rows == 3
    assert stats == result.columns


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
