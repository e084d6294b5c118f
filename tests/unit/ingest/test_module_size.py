"""The ingest modules stay small enough to read, each with one job: importer.py held the CSV, JSON and workbook
import steps and the import's frame in 419 lines."""

from __future__ import annotations

from pathlib import Path

import app.ingest

#: The most lines a module of app.ingest has (CONVENTIONS: modules under ~400 lines).
MAX_LINES = 400


def test_every_ingest_module_is_under_the_size_bound() -> None:
    root = Path(app.ingest.__file__).parent
    sizes = {path.relative_to(root).as_posix(): len(path.read_text().splitlines()) for path in root.rglob("*.py")}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
