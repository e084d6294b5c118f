"""Codes written as digits past the rows a CSV's types are sampled from: 000001 after 20,480 rows of 600519 was
imported as 1, the text the user had changed with no error or warning."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.columns import has_leading_zero, text_number_reader
from app.ingest.csv_reader import SAMPLE_ROWS, detect
from app.ingest.errors import ImportFailed
from tests.unit.ingest.conftest import rows_of, write_xlsx

SUGGESTION = "set the column's type to string to keep it as written"


def stocks(path: Path, late: list[str]) -> Path:
    """A CSV whose first SAMPLE_ROWS codes are 600000, 600001, ... (Shanghai's), then the `late` rows."""
    sampled = [f"{600000 + i},s{i},{i % 50}" for i in range(SAMPLE_ROWS)]
    path.write_text("\n".join(["code,name,qty", *sampled, *late]) + "\n", encoding="utf-8")
    return path


def test_a_strict_import_fails_naming_each_code_a_number_would_change(tmp_path: Path, run_import, limits):
    path = stocks(tmp_path / "stocks.csv", ["000001,平安银行,1", "002594,比亚迪,2", "601318,中国平安,3"])
    assert next(c.type for c in preview(path, "stocks.csv", ImportConfig(), limits).columns) == "integer"
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert caught.value.code == "import_failed"
    first = SAMPLE_ROWS + 2  # the header is line 1
    assert [(e["row"], e["column"], e["value"]) for e in caught.value.errors] == [
        (first, "code", "000001"),
        (first + 1, "code", "002594"),
    ]
    message = caught.value.errors[0]["message"]
    assert message == f"cannot read '000001' as integer without changing it (it would be 1): {SUGGESTION}"
    assert f"(row {first}, column code)" in caught.value.detail
    kept = run_import(path, columns={"code": ColumnSpec(type="string")})  # as the message says
    assert [r["code"] for r in rows_of(kept)][-3:] == ["000001", "002594", "601318"]


def test_a_lenient_import_reads_such_a_code_column_as_text_and_says_so(tmp_path: Path, run_import):
    path = stocks(tmp_path / "stocks.csv", ["000001,平安银行,1", ",空,2", "601318,中国平安,3"])
    result = run_import(path, on_error="lenient")
    assert [r["code"] for r in rows_of(result)][-3:] == ["000001", None, "601318"]
    assert rows_of(result)[0]["code"] == "600000"
    assert pq.read_schema(result.data_path).field("qty").type == "int64"  # a column of counts is not touched
    assert result.config.columns["code"].type == "string"
    assert (
        f"column 'code' reads as a code past the sampled rows (row {SAMPLE_ROWS + 2}: '000001' would change as a "
        "number): imported as text, every value as written"
    ) in result.warnings
    assert result.rejected == 0


def test_the_row_a_code_column_was_read_as_text_for_counts_the_rows_duckdb_cannot_split(
    tmp_path: Path, run_import
) -> None:
    """The warning numbered its row by a read that leaves out the rows of too many (or too few) cells, so after
    them it named a row too high up (20482 here, for the code on 20484): it is the record's row in the file, as
    in the rejects."""
    path = stocks(tmp_path / "stocks.csv", ["1,too,many,cells", "2,too few", "000001,平安银行,1"])
    result = run_import(path, on_error="lenient")
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert sorted({r["row"] for r in rejects}) == [SAMPLE_ROWS + 2, SAMPLE_ROWS + 3]
    assert (
        f"column 'code' reads as a code past the sampled rows (row {SAMPLE_ROWS + 4}: '000001' would change as a "
        "number): imported as text, every value as written"
    ) in result.warnings
    assert [r["code"] for r in rows_of(result)][-1] == "000001"


def test_codes_that_stay_the_same_import_as_numbers_and_a_value_that_is_none_is_still_a_bad_row(
    tmp_path: Path, run_import
):
    clean = run_import(stocks(tmp_path / "clean.csv", ["601318,中国平安,3", "-60000,负,1"]))
    assert [r["code"] for r in rows_of(clean)][-2:] == [601318, -60000]
    assert clean.warnings == []
    bad = stocks(tmp_path / "bad.csv", ["abc,坏,1", "601318,中国平安,3"])
    lenient = run_import(bad, on_error="lenient")
    assert lenient.rejected == 1
    assert pq.read_schema(lenient.data_path).field("code").type == "int64"
    with pytest.raises(ImportFailed) as caught:
        run_import(bad)
    assert [(e["row"], e["value"], e["message"]) for e in caught.value.errors] == [
        (SAMPLE_ROWS + 2, "abc", "cannot read 'abc' as integer")
    ]


@pytest.mark.parametrize(
    ("late", "becomes"),
    [("+8613800138000", "8613800138000"), ("1e5", "100000"), ("1_000", "1000")],
    ids=["plus-sign", "exponent", "underscore"],
)
def test_other_codes_a_number_would_change_are_listed_too(tmp_path: Path, run_import, late: str, becomes: str):
    """DuckDB's cast reads '+86…' (a phone number), '1e5' and '1_000' as integers; its sniffer does not."""
    path = tmp_path / "phones.csv"
    phones = [f"{8613800000000 + i},{i}" for i in range(SAMPLE_ROWS)]
    path.write_text("\n".join(["phone,n", *phones, f"{late},1"]) + "\n")
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    (error,) = caught.value.errors
    assert (error["value"], f"(it would be {becomes})" in error["message"]) == (late, True)


def test_only_columns_of_one_width_of_digits_are_checked(tmp_path: Path, limits: ImportLimits):
    """The check reads a column as text: only where its sample looks like codes, not every integer column."""
    path = tmp_path / "mixed.csv"
    path.write_text("id,code,year,digit\n" + "".join(f"{i + 1},{100100 + i},2024,{i % 10}\n" for i in range(200)))
    plan = detect(duckdb.connect(), str(path), "utf-8", ImportConfig(), limits)
    assert plan.codes == ["code", "year"]
    typed = ImportConfig(columns={"code": ColumnSpec(type="string")})
    assert detect(duckdb.connect(), str(path), "utf-8", typed, limits).codes == ["year"]


def test_the_leading_zero_rule_is_duckdbs_sniffers_for_workbook_text_too(tmp_path: Path, limits: ImportLimits):
    """A workbook's text cells 00123 read as numbers once a thousands separator was set (123.0): CSV's sniffer
    keeps such a column text, and so does the one rule now."""
    assert [has_leading_zero(t) for t in ["00123", "0123.50", "+01", " 01", "0", "0.5", "-01", "10"]] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    read = text_number_reader(ImportConfig(thousands_separator=","))
    assert (read("1,234"), read("00123")) == (1234.0, "00123")
    book = write_xlsx(tmp_path / "codes.xlsx", {"S": [["code", "amount"], ["00123", "1,234"], ["01000", "5,000"]]})
    shown = preview(book, "codes.xlsx", ImportConfig(thousands_separator=","), limits)
    assert [c.type for c in shown.columns] == ["string", "integer"]
    assert [row[0] for row in shown.rows] == ["00123", "01000"]
    csv = tmp_path / "codes.csv"
    csv.write_text('code,amount\n00123,"1,234"\n01000,"5,000"\n')
    assert [c.type for c in preview(csv, "codes.csv", ImportConfig(thousands_separator=","), limits).columns] == [
        "string",
        "integer",
    ]


def test_a_workbook_text_code_past_the_type_sample_is_a_bad_cell_not_a_number(tmp_path: Path, run_import):
    """1,000 numeric cells type the column integer; a text cell 00123 further down became 123. Within the sample
    the same cell makes the column text; past it, it is a cell that does not fit, listed (strict) or rejected."""
    rows = [["code"], *([100 + i] for i in range(1000)), ["00123"], [" 0456"], ["789"]]
    path = write_xlsx(tmp_path / "late.xlsx", {"S": rows})
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert [(e["row"], e["value"]) for e in caught.value.errors] == [(1002, "00123"), (1003, " 0456")]
    assert caught.value.errors[0]["message"] == (
        "cannot read '00123' as integer: is written with a leading zero, a code: set the column's type to string "
        "to keep it"
    )
    lenient = run_import(path, on_error="lenient")
    assert lenient.rejected == 2
    assert [r["code"] for r in rows_of(lenient)][-1] == 789
    kept = run_import(path, columns={"code": ColumnSpec(type="string")})
    assert [r["code"] for r in rows_of(kept)][-3:] == ["00123", " 0456", "789"]


def test_the_preview_of_a_code_column_says_the_import_decides_past_the_sampled_rows(tmp_path: Path, limits):
    """A lenient import reads a code column as text when a value past the sample has a leading zero, while its
    preview (which reads the sample) said integer with nothing more: the preview now says what the import does."""
    path = stocks(tmp_path / "stocks.csv", ["000001,平安银行,1"])
    lenient = preview(path, "stocks.csv", ImportConfig(on_error="lenient"), limits)
    assert next(c.type for c in lenient.columns) == "integer"
    said = [w for w in lenient.warnings if w.startswith("column 'code' holds codes written as digits")]
    assert len(said) == 1
    assert "a lenient import reads the column as text, every value as written" in said[0]
    assert not [w for w in lenient.warnings if "'qty'" in w]  # counts of varying width are no codes
    strict = preview(path, "stocks.csv", ImportConfig(), limits)
    assert any("'code'" in w and "a strict import fails naming it" in w for w in strict.warnings)
    small = tmp_path / "small.csv"  # the whole file was sampled: nothing is left for the import to decide
    small.write_text("code,qty\n600519,1\n601318,2\n")
    shown = preview(small, "small.csv", ImportConfig(on_error="lenient"), limits)
    assert shown.columns[0].type == "integer"
    assert not [w for w in shown.warnings if "codes written as digits" in w]
    exact = preview(stocks(tmp_path / "exact.csv", []), "exact.csv", ImportConfig(on_error="lenient"), limits)
    assert not [w for w in exact.warnings if "codes written as digits" in w]


def test_codes_of_varying_widths_are_checked_past_the_sample_too(tmp_path: Path, run_import, limits):
    """Postal and account codes of several widths (12345, 123456 in the sample, then 0012345) lost their zeros:
    a column whose sampled digits are never under VARYING_MIN_WIDTH wide is checked as codes of one width are."""
    path = tmp_path / "accounts.csv"
    sampled = [f"{12345 + i * 7 if i % 2 else 123456 + i},{i % 50},{i + 1}" for i in range(SAMPLE_ROWS)]
    path.write_text("\n".join(["account,qty,id", *sampled, "0012345,1,0", "7654321,2,99999"]) + "\n")
    plan = detect(duckdb.connect(), str(path), "utf-8", ImportConfig(), limits)
    assert plan.codes == ["account"]  # counts and ids counted from 1 reach single digits: not codes
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert [(e["row"], e["column"], e["value"]) for e in caught.value.errors] == [
        (SAMPLE_ROWS + 2, "account", "0012345")
    ]
    lenient = run_import(path, on_error="lenient")
    assert [r["account"] for r in rows_of(lenient)][-2:] == ["0012345", "7654321"]
    assert pq.read_schema(lenient.data_path).field("id").type == "int64"


@pytest.mark.parametrize("bound", [{"limit": 100}, {"range": "A1:C101"}, {"limit": SAMPLE_ROWS}])
def test_the_preview_of_codes_says_nothing_of_rows_past_the_sample_the_import_does_not_read(
    tmp_path: Path, run_import, limits, bound: dict
):
    """With a `limit` (or a range's last row) within the sampled rows the import reads no row past them, yet the
    preview said the import decides the codes past them: it counted the file's lines, not the rows read."""
    path = stocks(tmp_path / "stocks.csv", ["000001,平安银行,1"])
    shown = preview(path, "stocks.csv", ImportConfig(on_error="lenient", **bound), limits)
    assert next(c.type for c in shown.columns) == "integer"
    assert not [w for w in shown.warnings if "codes written as digits" in w]
    result = run_import(path, on_error="lenient", **bound)
    assert result.config.columns["code"].type == "integer"
    assert not [w for w in result.warnings if "'code'" in w]
    past = preview(path, "stocks.csv", ImportConfig(on_error="lenient", limit=SAMPLE_ROWS + 1), limits)
    assert [w for w in past.warnings if "codes written as digits" in w]  # the import reads 000001
