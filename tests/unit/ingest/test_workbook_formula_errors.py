"""xls, xlsb and ods formula errors (#N/A, #DIV/0!, …) read as the text the sheet shows, as xlsx ones do
(tests/unit/ingest/test_formula_errors.py), never as silent blanks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.biff_errors import ERROR_TEXTS, error_cells
from app.ingest.config import parse_config
from app.ingest.errors import ImportFailed
from tests.unit.ingest.conftest import rows_of
from tests.workbook_files import ERROR_CODES, Error, Rows, ods_workbook, xls_workbook, xlsb_workbook

#: The xlsx test's sheet: `amount` numbers with a #DIV/0! (row 3) and a #N/A (row 5), `note` text with a #REF!
SALES: Rows = [
    ["amount", "note"],
    *(
        [Error("#DIV/0!") if i == 3 else Error("#N/A") if i == 5 else i + 0.5, Error("#REF!") if i == 4 else f"n{i}"]
        for i in range(2, 22)
    ),
]
WRITERS: dict[str, Callable[[Path, Rows], Path]] = {
    "ods": lambda path, rows: ods_workbook(path, {"Data": rows}),
    "xlsb": xlsb_workbook,
    "xls": xls_workbook,
}


@pytest.fixture(params=sorted(WRITERS))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_the_preview_shows_errors_and_suggests_reading_them_as_empty(
    tmp_path: Path, limits: ImportLimits, kind: str
) -> None:
    path = WRITERS[kind](tmp_path / f"sales.{kind}", SALES)
    shown = preview(path, path.name, ImportConfig(), limits)
    assert shown.rows[:4] == [["2.5", "n2"], ["#DIV/0!", "n3"], ["4.5", "#REF!"], ["#N/A", "n5"]]
    assert "column 'amount' mixes types in its first rows; read as text" in shown.warnings
    [nulls] = shown.suggestions
    assert (nulls.field, nulls.value) == ("null_values", ["#N/A", "#DIV/0!"])
    assert shown.suggested_config is not None
    applied = preview(path, path.name, shown.suggested_config, limits)
    assert [c.type for c in applied.columns] == ["float", "string"]
    assert applied.rows[:4] == [[2.5, "n2"], [None, "n3"], [4.5, "#REF!"], [None, "n5"]]


def test_the_import_keeps_them_as_text_and_says_so(tmp_path: Path, run_import, kind: str) -> None:
    path = WRITERS[kind](tmp_path / f"sales.{kind}", SALES)
    result = run_import(path)
    assert [list(r.values()) for r in rows_of(result)][:4] == [
        ["2.5", "n2"],
        ["#DIV/0!", "n3"],
        ["4.5", "#REF!"],
        ["#N/A", "n5"],
    ]
    assert result.warnings[0].startswith("3 formula error cell(s) (#N/A, #DIV/0!, #VALUE!, …) are imported as the text")


def test_a_number_column_counts_an_error_as_a_bad_row(tmp_path: Path, run_import, kind: str) -> None:
    path = WRITERS[kind](tmp_path / f"sales.{kind}", SALES)
    typed = parse_config({"columns": {"amount": {"type": "float"}}}).columns
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns=typed, on_error="strict")
    assert "row 3" in caught.value.detail
    assert "'#DIV/0!'" in caught.value.detail
    assert run_import(path, columns=typed, on_error="lenient").rejected == 2


@pytest.mark.parametrize("formula", [True, False], ids=["formula", "constant"])
@pytest.mark.parametrize("kind", ["xls", "xlsb"])
def test_every_error_code_reads_as_its_text(tmp_path: Path, run_import, kind: str, formula: bool) -> None:
    rows: Rows = [["error"], *([Error(text, formula=formula)] for text in ERROR_CODES)]
    path = WRITERS[kind](tmp_path / f"codes.{kind}", rows)
    assert [r["error"] for r in rows_of(run_import(path))] == list(ERROR_CODES)
    assert set(ERROR_CODES) <= set(ERROR_TEXTS.values())


def test_an_xlsb_error_calamine_leaves_out_past_the_last_row_is_still_read(tmp_path: Path, run_import) -> None:
    """calamine skips an xlsb formula whose result is an error: at the sheet's end, its row was lost too."""
    path = xlsb_workbook(tmp_path / "end.xlsb", [["a", "b"], [1, 2], [3, Error("#N/A")], [Error("#REF!"), None]])
    assert [list(r.values()) for r in rows_of(run_import(path))] == [["1", "2"], ["3", "#N/A"], ["#REF!", None]]


def test_ods_counts_only_the_imported_sheets_errors(tmp_path: Path, run_import) -> None:
    path = ods_workbook(
        tmp_path / "two.ods",
        {"Other": [["x"], [Error("#N/A")], [Error("#N/A")]], "Data": [["v"], [1], [Error("#VALUE!")]]},
    )
    result = run_import(path, sheet="Data")
    assert [r["v"] for r in rows_of(result)] == ["1", "#VALUE!"]
    assert result.warnings[0].startswith("1 formula error cell(s)")


def test_a_sheet_without_errors_is_not_walked(tmp_path: Path) -> None:
    path = xls_workbook(tmp_path / "plain.xls", [["a", "b"], [1, "x"], [2.5, "y"]])
    assert error_cells(str(path), "xls", 0) == {}
    assert error_cells(str(xlsb_workbook(tmp_path / "plain.xlsb", [["a"], [1]])), "xlsb", 0) == {}


def test_a_small_xls_whose_workbook_stream_lives_in_the_mini_stream_reads_whole(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    """A Workbook stream under 4096 bytes (a small sheet, as Excel saves it) sits in the compound file's mini
    stream: 64-byte sectors chained by the mini FAT inside the root entry's stream; calamine and the error-cell
    walk (app.ingest.ole) read it there, codes with leading zeros stay text."""
    rows: Rows = [["工号", "amount"], ["00123", 2.5], ["00456", Error("#N/A")], ["01000", 4]]
    path = xls_workbook(tmp_path / "small.xls", rows, mini=True)
    assert path.stat().st_size < 4096
    assert error_cells(str(path), "xls", 0) == {(2, 1): "#N/A"}
    shown = preview(path, path.name, ImportConfig(), limits)
    assert shown.rows == [["00123", "2.5"], ["00456", "#N/A"], ["01000", "4"]]
    assert shown.suggested_config == ImportConfig(null_values=["#N/A"])
    result = run_import(path, null_values=["#N/A"])
    assert [list(r.values()) for r in rows_of(result)] == [["00123", 2.5], ["00456", None], ["01000", 4.0]]
