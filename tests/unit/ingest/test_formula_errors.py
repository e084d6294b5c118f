"""xlsx formula errors (#N/A, #DIV/0!, #REF!) are read as the text Excel shows, never as silent blanks."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, preview, xlsx_head
from app.ingest.config import parse_config
from app.ingest.errors import ImportFailed
from app.ingest.xlsx_errors import ErrorCellsAsText
from tests.hostile_files import formula_errors_workbook
from tests.unit.ingest.conftest import rows_of, write_xlsx


def test_the_preview_shows_errors_and_suggests_reading_them_as_empty(tmp_path: Path, limits: ImportLimits) -> None:
    path = formula_errors_workbook(tmp_path / "sales.xlsx")
    shown = preview(path, "sales.xlsx", ImportConfig(), limits)
    assert shown.rows[:4] == [["2.5", "n2"], ["#DIV/0!", "n3"], ["4.5", "#REF!"], ["#N/A", "n5"]]
    assert "column 'amount' mixes types in its first rows; read as text" in shown.warnings
    [nulls] = shown.suggestions
    assert (nulls.field, nulls.value) == ("null_values", ["#N/A", "#DIV/0!"])
    assert shown.suggested_config is not None
    applied = preview(path, "sales.xlsx", shown.suggested_config, limits)
    assert [c.type for c in applied.columns] == ["float", "string"]
    assert applied.rows[:4] == [[2.5, "n2"], [None, "n3"], [4.5, "#REF!"], [None, "n5"]]


def test_the_import_keeps_them_as_text_and_says_so(tmp_path: Path, run_import) -> None:
    path = formula_errors_workbook(tmp_path / "sales.xlsx")
    result = run_import(path)
    assert [list(r.values()) for r in rows_of(result)][:4] == [
        ["2.5", "n2"],
        ["#DIV/0!", "n3"],
        ["4.5", "#REF!"],
        ["#N/A", "n5"],
    ]
    assert result.warnings[0].startswith("3 formula error cell(s) (#N/A, #DIV/0!, #VALUE!, …) are imported as the text")


def test_a_number_column_counts_an_error_as_a_bad_row(tmp_path: Path, run_import) -> None:
    path = formula_errors_workbook(tmp_path / "sales.xlsx")
    typed = {"amount": {"type": "float"}}
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns=parse_config({"columns": typed}).columns, on_error="strict")
    assert "row 3" in caught.value.detail
    assert "'#DIV/0!'" in caught.value.detail
    lenient = run_import(path, columns=parse_config({"columns": typed}).columns, on_error="lenient")
    assert lenient.rejected == 2


def test_a_cut_copy_reads_errors_as_text_too(
    tmp_path: Path, limits: ImportLimits, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = formula_errors_workbook(tmp_path / "long.xlsx", rows=3000)
    whole = msgspec.to_builtins(preview(path, "long.xlsx", ImportConfig(), limits))
    monkeypatch.setattr(xlsx_head, "SMALL_SHEET_BYTES", 0)  # cut however small the sheet is
    cut = msgspec.to_builtins(preview(path, "long.xlsx", ImportConfig(), limits))
    assert cut["rows"] == whole["rows"]
    assert cut["rows"][1] == ["#DIV/0!", "n3"]


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_error_cells_are_found_across_chunk_boundaries(chunk: int) -> None:
    xml = b'<row><c r="A1" t="e"><v>#N/A</v></c><x:c r="B1" s="2" t=\'e\'><v>#REF!</v></x:c><c t="s"><v>0</v></c></row>'
    edit = ErrorCellsAsText()
    out = b"".join(edit.feed(xml[i : i + chunk]) for i in range(0, len(xml), chunk)) + edit.close()
    assert out == xml.replace(b't="e"', b't="str"').replace(b"t='e'", b"t='str'")
    assert edit.found == 2


def test_a_sheet_read_from_its_errors_as_text_copy_still_gets_its_totals_row_suggested(
    tmp_path: Path, limits: ImportLimits
) -> None:
    """The copy keeps every row, so the preview still looks for a totals row at the sheet's end."""
    rows: list[list[object]] = [["region", "amount", "ratio"]]
    rows += [[f"r{i}", i * 10, "#DIV/0!" if i == 3 else i / 10] for i in range(1, 11)]
    rows.append(["合计", 550, None])
    path = write_xlsx(tmp_path / "totals.xlsx", {"Data": rows})  # openpyxl writes "#DIV/0!" as an error cell
    shown = preview(path, "totals.xlsx", ImportConfig(), limits)
    assert shown.rows[2] == ["r3", 30, "#DIV/0!"]
    assert ("skip_footer", 1) in [(s.field, s.value) for s in shown.suggestions]
