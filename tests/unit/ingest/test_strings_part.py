"""The shared-strings part a preview caps and counts is the one calamine reads: `xl/sharedStrings.xml`, its name's
case ignored, whatever the workbook's relationships name. A workbook whose relationships named a short decoy table
had the decoy capped while calamine read a 20 MB string whole; a table stored as `xl/SharedStrings.xml` was not
counted at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview, shared_strings_count
from app.ingest.errors import LimitExceeded, UnsupportedMediaType
from app.ingest.preview import PREVIEW_CELL_CHARS
from tests.hostile_files import DOC_REL, NS, bare_workbook, long_cell_workbook
from tests.memory_peak import PeakMemory
from tests.unit.ingest.conftest import rows_of

BIG = 20 * 1024 * 1024
SHEET_REL = f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
STRINGS_REL = f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'


@pytest.mark.parametrize("rows", [3, 150_000], ids=["copied", "cut"])
def test_a_decoy_strings_part_does_not_bypass_the_preview_cap(
    tmp_path: Path, limits: ImportLimits, run_import, rows: int
) -> None:
    small = long_cell_workbook(tmp_path / "small.xlsx", "x", shared=True)
    preview(small, "small.xlsx", ImportConfig(), limits)  # the first preview's one-time costs, out of the way
    path = long_cell_workbook(tmp_path / "decoy.xlsx", "y" * BIG, shared=True, rows=rows, decoy="strings2.xml")
    with PeakMemory() as peak:
        shown = preview(path, "decoy.xlsx", ImportConfig(), limits)
    assert peak.added < 40, f"the preview added {peak.added} MiB to the process's peak"
    assert shown.rows[0] == [1, "y" * PREVIEW_CELL_CHARS + "…"]  # what calamine reads, cut: not the decoy's x
    assert rows_of(run_import(path))[0]["note"] == "y" * BIG


def _strings_at(path: Path, members: dict[str, int]) -> Path:
    """A one-cell sheet over shared-strings tables of so many one-character strings at those members."""
    sheet = f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    parts = {"xl/worksheets/sheet1.xml": sheet}
    for member, strings in members.items():
        parts[member] = f"<sst {NS}>" + "<si><t>a</t></si>" * strings + "</sst>"
    return bare_workbook(path, '<sheet name="S" sheetId="1" r:id="rId1"/>', SHEET_REL + STRINGS_REL, parts)


def test_a_strings_table_named_in_another_case_is_counted(
    tmp_path: Path, limits: ImportLimits, run_import, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calamine finds xl/SharedStrings.xml as xl/sharedStrings.xml: its strings count as theirs."""
    monkeypatch.setattr(shared_strings_count, "SPARE_STRINGS", 100)
    path = _strings_at(tmp_path / "case.xlsx", {"xl/SharedStrings.xml": 5000})
    with pytest.raises(LimitExceeded, match="shared-strings table holds more than"):
        preview(path, "case.xlsx", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match="shared-strings table"):
        run_import(path)
    few = _strings_at(tmp_path / "few.xlsx", {"xl/SharedStrings.xml": 3})
    assert preview(few, "few.xlsx", ImportConfig(header_row=0), limits).rows == [["a"]]


def test_two_strings_tables_told_apart_only_by_case_are_refused(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    """Which of the two calamine reads depends on the zip's order: the file is damaged, and said to be."""
    path = _strings_at(tmp_path / "two.xlsx", {"xl/sharedStrings.xml": 1, "xl/SHAREDSTRINGS.XML": 1})
    with pytest.raises(UnsupportedMediaType, match="told apart only by the case") as caught:
        preview(path, "two.xlsx", ImportConfig(), limits)
    assert caught.value.code == "corrupt_file"
    with pytest.raises(UnsupportedMediaType, match="told apart only by the case"):
        run_import(path)
