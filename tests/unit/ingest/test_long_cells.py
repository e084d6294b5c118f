"""A workbook cell of tens of MB: the preview shows its head without holding it whole; the import keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.preview import PREVIEW_CELL_CHARS
from tests.hostile_files import long_cell_workbook
from tests.memory_peak import PeakMemory
from tests.unit.ingest.conftest import rows_of

BIG = 20 * 1024 * 1024


@pytest.mark.parametrize("shared", [True, False], ids=["shared-string", "inline-string"])
def test_a_huge_workbook_cell_is_previewed_cut_and_imported_whole(
    tmp_path: Path, limits: ImportLimits, run_import, shared: bool
) -> None:
    small = long_cell_workbook(tmp_path / "small.xlsx", "x", shared=shared)
    preview(small, "small.xlsx", ImportConfig(), limits)  # the first preview's one-time costs, out of the way
    path = long_cell_workbook(tmp_path / "big.xlsx", "说" * BIG, shared=shared)
    with PeakMemory() as peak:
        shown = preview(path, "big.xlsx", ImportConfig(), limits)
    # Read whole, the cell was held as XML, by calamine, in Python, in Arrow and back: 8x its size.
    assert peak.added < 40, f"the preview added {peak.added} MiB to the process's peak"
    assert shown.rows == [[1, "说" * PREVIEW_CELL_CHARS + "…"], [2, "short 3"]]
    assert f"1 cell(s) longer than {PREVIEW_CELL_CHARS} characters are cut short" in shown.warnings[-1]
    assert len(rows_of(run_import(path))[0]["note"]) == BIG


def test_a_huge_cell_among_many_rows_is_cut_in_the_cut_copy(tmp_path: Path, limits: ImportLimits) -> None:
    """A sheet long enough to be cut for the preview (app.ingest.xlsx_head) cuts the texts it keeps as well."""
    path = long_cell_workbook(tmp_path / "long.xlsx", "y" * BIG, shared=True, rows=150_000)
    shown = preview(path, "long.xlsx", ImportConfig(), limits)
    assert shown.rows[0] == [1, "y" * PREVIEW_CELL_CHARS + "…"]
    assert shown.rows[1:3] == [[2, "short 3"], [3, "short 4"]]
