"""A CSV of thousands of columns previews its first MAX_PREVIEW_COLUMNS within a request's memory, and imports whole."""

from __future__ import annotations

from pathlib import Path

from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_file, preview
from app.ingest.config import parse_config
from app.ingest.preview_columns import MAX_PREVIEW_COLUMNS

#: What the API gives a preview's DuckDB work (CONVEYOR_REQUEST_QUERY_MEMORY_MB): 5,000 columns needed more.
REQUEST = DuckDBSettings(memory_limit="256MB", threads=1)
#: What an import job's DuckDB gets by default (CONVEYOR_JOB_MEMORY_LIMIT_MB).
JOB = DuckDBSettings(memory_limit="1024MB", threads=1)


def wide_csv(path: Path, columns: int, rows: int = 50) -> Path:
    header = ",".join(f"c{i}" for i in range(columns))
    body = "".join(",".join(f"{r * i}" if i % 3 else f'"t{r},{i}"' for i in range(columns)) + "\n" for r in range(rows))
    path.write_text(header + "\n" + body)
    return path


def test_a_5000_column_csv_previews_its_first_columns_and_imports_them_all(
    tmp_path: Path, limits: ImportLimits
) -> None:
    path = wide_csv(tmp_path / "wide.csv", 5000)
    shown = preview(path, "wide.csv", ImportConfig(), limits, duckdb_settings=REQUEST)
    assert [c.name for c in shown.columns] == [f"c{i}" for i in range(MAX_PREVIEW_COLUMNS)]
    assert shown.rows[1][:4] == ["t1,0", 1, 2, "t1,3"]  # quoted cells holding the delimiter survive the cut
    assert len(shown.rows[1]) == MAX_PREVIEW_COLUMNS
    assert any(w.startswith("the file has 5000 columns: this preview shows the first 1000") for w in shown.warnings)
    imported = import_file(
        path, filename="wide.csv", config=ImportConfig(), limits=limits, out_dir=tmp_path, duckdb_settings=JOB
    )
    assert len(imported.columns) == 5000


def test_a_configured_column_past_the_preview_limit_is_still_shown(tmp_path: Path, limits: ImportLimits) -> None:
    path = wide_csv(tmp_path / "wide.csv", 3000)
    config = parse_config({"columns": {"c2500": {"name": "far", "type": "string"}}})
    shown = preview(path, "wide.csv", config, limits, duckdb_settings=REQUEST)
    assert shown.columns[-1].name == "far"
    assert len(shown.columns) == 2501


def test_a_narrow_file_is_previewed_as_it_is(tmp_path: Path, limits: ImportLimits) -> None:
    path = wide_csv(tmp_path / "narrow.csv", MAX_PREVIEW_COLUMNS)
    shown = preview(path, "narrow.csv", ImportConfig(), limits, duckdb_settings=REQUEST)
    assert len(shown.columns) == MAX_PREVIEW_COLUMNS
    assert not any("columns: this preview shows" in w for w in shown.warnings)
