"""An xlsx number cell `<v>1e-400</v>` was imported as 0 with nothing said (and `<v>1e400</v>` was a bad row,
"cannot read inf"), where the same literal in a CSV fails a strict import with number_out_of_range and makes a
lenient one read the column as text with a notice: workbooks follow the CSV rule (app.ingest.sheet_range)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.number_range import NumberOutOfRange
from app.ingest.preview import preview
from tests.hostile_files import DOC_REL, NS, bare_workbook
from tests.unit.ingest.conftest import rows_of


def _book(path: Path, values: list[str], *, extra: str = "") -> Path:
    """An xlsx of an id and a number column `v`, `values` written as its cells' literals (from row 2); `extra`: rows
    after them."""
    head = '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>v</t></is></c>'
    rows = head + "</row>"
    rows += "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n - 1}</v></c><c r="B{n}"><v>{v}</v></c></row>' for n, v in enumerate(values, 2)
    )
    rows += extra
    return bare_workbook(
        path,
        '<sheet name="S" sheetId="1" r:id="rId1"/>',
        f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>',
        {"xl/worksheets/sheet1.xml": f"<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>"},
    )


@pytest.mark.parametrize(("value", "became"), [("1e-400", "0"), ("1e400", "infinity"), ("-1E+400", "-infinity")])
def test_a_strict_import_and_preview_refuse_a_number_cell_no_double_holds(
    tmp_path: Path, limits: ImportLimits, run_import, value: str, became: str
) -> None:
    path = _book(tmp_path / "big.xlsx", ["1.5", value, "2.5"])
    for attempt in (lambda: preview(path, path.name, ImportConfig(), limits), lambda: run_import(path)):
        with pytest.raises(NumberOutOfRange) as caught:
            attempt()
        assert caught.value.code == "number_out_of_range"
        assert (caught.value.errors[0]["row"], caught.value.errors[0]["column"]) == (3, "v")
        assert f"the number {value} is beyond" in caught.value.detail
        assert f"read as {became}:" in caught.value.detail


def test_a_lenient_import_reads_the_column_as_text_every_value_as_written(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    values = [f"{n}.5" for n in range(1, 1500)] + ["1e-400", "0"]  # past the 1,000 rows the types are sampled from
    path = _book(tmp_path / "tiny.xlsx", values)
    result = run_import(path, on_error="lenient")
    assert [(c.name, c.type) for c in result.columns] == [("id", "integer"), ("v", "string")]
    rows = rows_of(result)
    assert (rows[0]["v"], rows[-2]["v"], rows[-1]["v"]) == ("1.5", "1e-400", "0")
    assert result.rejected == 0
    notices = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert [(n["column"], n["row"], n["value"]) for n in notices] == [("v", 1501, "1e-400")]
    near = _book(tmp_path / "near.xlsx", ["1.5", "1e400"])
    shown = preview(near, near.name, ImportConfig(on_error="lenient"), limits)
    assert [row[1] for row in shown.rows] == ["1.5", "1e400"]


def test_text_and_tiny_but_true_numbers_leave_a_number_column_as_it_was(tmp_path: Path, run_import) -> None:
    """A written 0, a number a double holds (2.5e-300) and `1e-400` as text decide nothing for a number column."""
    text = '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="inlineStr"><is><t>1e-400</t></is></c></row>'
    path = _book(tmp_path / "zeros.xlsx", ["0", "2.5e-300", "-0"])
    result = run_import(path, on_error="strict")
    assert [r["v"] for r in rows_of(result)] == [0.0, 2.5e-300, 0.0]
    mixed = _book(tmp_path / "text.xlsx", ["1.5"], extra=text)
    assert [r["v"] for r in rows_of(run_import(mixed, on_error="lenient"))] == ["1.5", "1e-400"]
