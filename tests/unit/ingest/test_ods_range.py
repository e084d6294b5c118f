"""An ods number cell whose literal no double holds (office:value="1e-400") follows the CSV and xlsx rule:
number_out_of_range in a strict import and preview, the column as text with a notice in a lenient one. Before:
calamine read 1e-400 as 0, imported with nothing said."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, ods_range
from app.ingest.number_range import NumberOutOfRange
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of
from tests.workbook_files import ods_tables


def _number(value: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    typed = f'office:value-type="float" office:value="{value}"'
    return f"<table:table-cell{repeated} {typed}><text:p>{value}</text:p></table:table-cell>"


def _row(*cells: str, repeat: int = 1) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>" + "".join(cells) + "</table:table-row>"


def _text(value: str) -> str:
    return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def _ods(path: Path, value: str) -> Path:
    """Sheet 2 of an ods (sheet 1 holds 1e-400 too): 名称, 金额, 备注, `value` in 金额 at row 4, below a row
    repeated twice; a cell repeated over two columns on the last row."""
    first = '<table:table table:name="其他">' + _row(_text("x"), _number("1e-400")) + "</table:table>"
    sheet = (
        '<table:table table:name="流水">'
        + _row(_text("名称"), _text("金额"), _text("备注"))
        + _row(_text("a"), _number("1.5"), _number("7"), repeat=2)
        + _row(_text("b"), _number(value), _number("7"))
        + _row(_text("c"), _number("2.5", repeat=2))
        + "</table:table>"
    )
    return ods_tables(path, first + sheet)


def test_a_strict_import_and_preview_refuse_an_ods_number_no_double_holds(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    path = _ods(tmp_path / "tiny.ods", "1e-400")
    for attempt in (
        lambda: preview(path, path.name, ImportConfig(sheet="流水"), limits),
        lambda: run_import(path, sheet="流水"),
    ):
        with pytest.raises(NumberOutOfRange) as caught:
            attempt()
        assert (caught.value.errors[0]["row"], caught.value.errors[0]["column"]) == (4, "金额")


def test_a_lenient_import_reads_the_ods_column_as_text(tmp_path: Path, run_import) -> None:
    path = _ods(tmp_path / "tiny.ods", "1e-400")
    result = run_import(path, sheet="流水", on_error="lenient")
    assert [r["金额"] for r in rows_of(result)] == ["1.5", "1.5", "1e-400", "2.5"]
    assert [r["备注"] for r in rows_of(result)] == [7, 7, 7, 2.5]
    notices = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert [(n["column"], n["row"], n["value"]) for n in notices] == [("金额", 4, "1e-400")]


def test_an_ods_of_plain_numbers_is_read_as_before(tmp_path: Path, run_import) -> None:
    result = run_import(_ods(tmp_path / "plain.ods", "1e-300"), sheet="流水", on_error="strict")
    assert [r["金额"] for r in rows_of(result)] == [1.5, 1.5, 1e-300, 2.5]


@pytest.mark.parametrize(("value", "walks"), [("1e-300", 0), ("1e-400", 1)])
def test_content_xml_is_searched_for_such_literals_in_the_pass_that_looks_for_error_cells(
    tmp_path: Path, limits: ImportLimits, run_import, monkeypatch: pytest.MonkeyPatch, value: str, walks: int
) -> None:
    """The import and the preview decompressed content.xml once for error cells, then once more only to find
    whether it held 1e400 or 1e-400 (as much again on a large ods); that search is now made in the first pass, and
    content.xml is read again only to place the cells it found."""
    reads: list[str] = []
    real = ods_range.whole_tags

    def counted(path: str, member: str) -> Iterator[bytes]:
        reads.append(member)
        return real(path, member)

    monkeypatch.setattr(ods_range, "whole_tags", counted)
    path = ods_tables(
        tmp_path / "counted.ods",
        '<table:table table:name="流水">' + _row(_text("金额")) + _row(_number(value)) + "</table:table>",
    )
    run_import(path, sheet="流水", on_error="lenient")
    assert len(reads) == walks
    preview(path, path.name, ImportConfig(sheet="流水", on_error="lenient"), limits)
    assert len(reads) == 2 * walks
