"""A CSV's rejected rows are named by the record's row in the file (what a spreadsheet shows), however they were
found: by DuckDB's read (a value its column does not read, a row it cannot split) or by the SELECT that converts
amounts and dates of their own format. The SELECT numbered the rows of a read that leaves out the rows DuckDB
cannot split, so a bad amount after such a row was named a row too high up (and counted with another row), in
the rejects file, the preview and a strict import's error alike."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.csv_reader import SAMPLE_ROWS
from app.ingest.errors import ImportFailed
from app.ingest.number_range import NumberOutOfRange
from app.ingest.preview import preview

#: Rows 2-9 below the header; cells quoted over several lines in rows 2, 4, 6 and 7.
CSV = (
    "单号,备注,金额\n"
    '1,"第一行\n第二行\n第三行","¥1,234.50"\n'  # row 2
    "2,plain,oops\n"  # row 3: an amount that does not convert (the SELECT's)
    '3,"a\nb",¥20\n'  # row 4
    "4,x,¥2.5,extra\n"  # row 5: a cell too many (DuckDB's)
    '5,"c\nd",¥1,extra\n'  # row 6: a cell too many, over two lines
    '6,"e\nf"\n'  # row 7: a cell too few
    "7,z,bad\n"  # row 8: an amount that does not convert, after the rows DuckDB left out
    "8,w,¥3\n"  # row 9
)
EXPECTED = [(3, "金额"), (5, None), (6, None), (7, "金额"), (8, "金额")]
AMOUNTS = {"金额": ColumnSpec(type="decimal", scale=2)}


def _sorted(cells: set[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
    return sorted(cells, key=lambda cell: (cell[0], cell[1] or ""))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_the_rejects_file_names_each_row_by_its_row_in_the_file(path: Path, run_import) -> None:
    result = run_import(path, columns=AMOUNTS, on_error="lenient")
    assert result.rejects_path is not None
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert _sorted({(r["row"], r["column"]) for r in rejects}) == EXPECTED
    assert next(r["value"] for r in rejects if r["row"] == 8) == "bad"
    assert any("5 row(s) rejected" in w for w in result.warnings)
    assert len(pq.read_table(result.data_path)) == 3  # rows 2, 4 and 9


def _preview_and_strict_rows(
    path: Path, columns: dict[str, ColumnSpec], limits: ImportLimits, run_import
) -> tuple[list[str], list[int], list[tuple[int, str | None]]]:
    """The warnings naming rows of a lenient preview, their rows, and the rows and columns a strict import lists."""
    shown = preview(path, path.name, ImportConfig(columns=columns, on_error="lenient"), limits)
    named = [w for w in shown.warnings if w.startswith("row ")]
    with pytest.raises(ImportFailed) as failed:
        run_import(path, columns=columns, on_error="strict")
    listed = _sorted({(p["row"], p.get("column")) for p in failed.value.errors})
    return named, [int(w.split(",")[0].split(":")[0].removeprefix("row ")) for w in named], listed


def test_the_preview_and_a_strict_import_name_the_same_rows(path: Path, limits: ImportLimits, run_import) -> None:
    named, rows, listed = _preview_and_strict_rows(path, AMOUNTS, limits, run_import)
    assert rows == [r for r, _ in EXPECTED]
    assert "row 8, column 金额: cannot read 'bad' as decimal" in named
    assert listed == EXPECTED


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ('id,note,x\n1,"a\nb",1.5\n2,y,2.5,extra\n3,z,1e400\n', 4),
        ("id,x\n\n1,1.5\n\n\n2,1e400\n", 6),  # after blank lines (rows 2, 4 and 5)
    ],
)
def test_a_number_no_float_holds_is_named_by_its_row_in_the_file(
    tmp_path: Path, limits: ImportLimits, run_import, text: str, row: int
) -> None:
    """The first 1e400 of a float column was named by the same numbering, a row too high up after a row DuckDB
    cannot split (or a blank line), in a strict import's number_out_of_range, its preview and a lenient import's
    notice."""
    path = tmp_path / "floats.csv"
    path.write_text(text, encoding="utf-8")
    for attempt in (lambda: preview(path, path.name, ImportConfig(), limits), lambda: run_import(path)):
        with pytest.raises(NumberOutOfRange) as caught:
            attempt()
        assert caught.value.errors[0]["row"] == row
    result = run_import(path, on_error="lenient")
    [said] = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert (said["row"], said["value"]) == (row, "1e400")


#: Blank lines above, between and below bad rows (and one inside a quoted cell): a spreadsheet shows each blank
#: line as a row, and DuckDB's reader numbers its rejected lines counting them.
GAPS = (
    "单号,备注,数量,金额\n"  # row 1
    "\n"  # row 2
    "1,a,10,¥1.00\n"  # row 3
    "\n"  # row 4
    "2,b,x,¥2.00\n"  # row 5: a count that does not convert (DuckDB's)
    '3,"c\n\nd",30,oops\n'  # row 6: an amount that does not convert (the SELECT's)
    "\n"  # row 7
    "\n"  # row 8
    "4,e,40,¥4.00,extra\n"  # row 9: a cell too many (DuckDB's)
    "5,f,50,bad\n"  # row 10: an amount that does not convert
    "\n"  # row 11
    "6,g,60,¥6\n"  # row 12
)
GAPS_EXPECTED = [(5, "数量"), (6, "金额"), (9, None), (10, "金额")]
GAPS_COLUMNS = {"数量": ColumnSpec(type="integer"), **AMOUNTS}


@pytest.fixture
def gaps(tmp_path: Path) -> Path:
    path = tmp_path / "gaps.csv"
    path.write_text(GAPS, encoding="utf-8")
    return path


def test_rows_after_blank_lines_are_named_alike_by_every_check(gaps: Path, limits: ImportLimits, run_import) -> None:
    """A bad amount (the SELECT's check) was named by its place among the records, a blank line not counted, while
    a bad count beside it (DuckDB's) was named by its line: rows 3 and 5 of one file were rows 5 and 6 of a
    spreadsheet, and two rows became one."""
    named, rows, listed = _preview_and_strict_rows(gaps, GAPS_COLUMNS, limits, run_import)
    assert rows == [r for r, _ in GAPS_EXPECTED]
    assert "row 10, column 金额: cannot read 'bad' as decimal" in named
    assert listed == GAPS_EXPECTED
    result = run_import(gaps, columns=GAPS_COLUMNS, on_error="lenient")
    assert result.rejects_path is not None
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert _sorted({(r["row"], r["column"]) for r in rejects}) == GAPS_EXPECTED
    assert any("4 row(s) rejected" in w for w in result.warnings)
    assert len(pq.read_table(result.data_path)) == 2  # rows 3 and 12
    assert next(r["value"] for r in rejects if r["row"] == 9) == "4,e,40,¥4.00,extra"  # not the blank lines above


def test_a_code_past_the_sample_after_blank_lines_is_named_by_its_row(tmp_path: Path, run_import) -> None:
    """The code a number would change is found by the SELECT's numbering too: a strict import's error and a lenient
    import's warning named it two rows too high up after two blank lines."""
    sampled = [f"{600000 + i},s{i},{i % 50}" for i in range(SAMPLE_ROWS)]  # Shanghai's codes, then a blank line
    path = tmp_path / "stocks.csv"
    path.write_text("\n".join(["code,name,qty", *sampled, "", "1,平安,1", "", "000001,平安银行,1\n"]), encoding="utf-8")
    row = SAMPLE_ROWS + 5  # the header is row 1, the blank lines rows SAMPLE_ROWS + 2 and + 4
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert [(e["row"], e["value"]) for e in caught.value.errors] == [(row, "000001")]
    result = run_import(path, on_error="lenient")
    assert any(f"(row {row}: '000001' would change" in w for w in result.warnings)
