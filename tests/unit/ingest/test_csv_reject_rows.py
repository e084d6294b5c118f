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


def test_the_preview_and_a_strict_import_name_the_same_rows(path: Path, limits: ImportLimits, run_import) -> None:
    shown = preview(path, path.name, ImportConfig(columns=AMOUNTS, on_error="lenient"), limits)
    named = [w for w in shown.warnings if w.startswith("row ")]
    assert [int(w.split(",")[0].split(":")[0].removeprefix("row ")) for w in named] == [r for r, _ in EXPECTED]
    assert "row 8, column 金额: cannot read 'bad' as decimal" in named
    with pytest.raises(ImportFailed) as failed:
        run_import(path, columns=AMOUNTS, on_error="strict")
    assert _sorted({(p["row"], p.get("column")) for p in failed.value.errors}) == EXPECTED


def test_a_number_no_float_holds_is_named_by_its_row_in_the_file(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    """The first 1e400 of a float column was named by the same numbering, a row too high up after a row DuckDB
    cannot split, in a strict import's number_out_of_range, its preview and a lenient import's notice."""
    path = tmp_path / "floats.csv"
    path.write_text('id,note,x\n1,"a\nb",1.5\n2,y,2.5,extra\n3,z,1e400\n', encoding="utf-8")
    for attempt in (lambda: preview(path, path.name, ImportConfig(), limits), lambda: run_import(path)):
        with pytest.raises(NumberOutOfRange) as caught:
            attempt()
        assert caught.value.errors[0]["row"] == 4
    result = run_import(path, on_error="lenient")
    [said] = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert (said["row"], said["value"]) == (4, "1e400")
