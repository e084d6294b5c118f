"""Fixtures for the ingest library: small limits, a one-thread DuckDB, and file writers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from app.core.notices import Noted
from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_file, importer, models, notices, preview
from app.ingest.models import ImportResult


@pytest.fixture(autouse=True)
def _every_warning_carries_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every warning a preview or an import gives in these tests carries its notice, the code the console words: a
    bare text shows in English in zh-CN (test_notices' check of the sources misses texts built in comprehensions,
    which is how two did)."""

    def settled(texts: list[str]) -> tuple[list[str], list[notices.Notice]]:
        bare = [text for text in texts if not isinstance(text, Noted)]
        assert not bare, f"warnings without a notice (add one in app/ingest/notices): {bare}"
        return notices.settled(texts)

    monkeypatch.setattr(importer, "settled", settled)
    monkeypatch.setattr(models, "settled", settled)


@pytest.fixture
def limits() -> ImportLimits:
    return ImportLimits(max_preview_rows=50)


@pytest.fixture
def settings(tmp_path: Path) -> DuckDBSettings:
    return DuckDBSettings(memory_limit="256MB", threads=1)


@pytest.fixture
def run_import(tmp_path: Path, limits: ImportLimits, settings: DuckDBSettings) -> Callable[..., ImportResult]:
    """Import a file into tmp_path/out with the given config fields."""

    def run(path: Path, filename: str | None = None, *, job_limits: ImportLimits | None = None, **config: Any):
        return import_file(
            path,
            filename=filename or path.name,
            config=ImportConfig(**config),
            limits=job_limits or limits,
            out_dir=tmp_path / "out",
            duckdb_settings=settings,
        )

    return run


def applied(path: Path, limits: ImportLimits) -> ImportConfig:
    """The configuration a person ends with clicking every suggestion of the preview until none is left."""
    config = ImportConfig()
    for _ in range(3):
        shown = preview(path, path.name, config, limits)
        if not shown.suggestions:
            return shown.config
        config = shown.suggested_config
    raise AssertionError(f"still suggesting {shown.suggestions}")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """`text` written to `path` in `encoding`, as an export would be."""
    path.write_bytes(text.encode(encoding))
    return path


def rows_of(result: ImportResult) -> list[dict[str, Any]]:
    """The imported rows, as dicts, read back from the Parquet file."""
    return pq.read_table(result.data_path).to_pylist()


def write_xlsx(
    path: Path, sheets: dict[str, Sequence[Sequence[Any]]], merge: str | Sequence[str] | None = None
) -> Path:
    """An xlsx with one sheet per entry (rows from A1); dates become date-formatted cells; `merge`: cell ranges
    merged on every sheet."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        for cells in [merge] if isinstance(merge, str) else merge or []:
            sheet.merge_cells(cells)
    book.save(path)
    return path
