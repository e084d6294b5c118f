"""Amounts with a currency sign (¥1,234.56, ￥-20.00, 1,234.56元) in number columns: one rule, CSV and workbooks."""

from __future__ import annotations

import decimal
from pathlib import Path

import duckdb
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.columns import Planned
from app.ingest.config import ColumnSpec
from app.ingest.convert import Converter
from app.ingest.errors import ImportFailed
from app.ingest.money import plain_number, plain_number_sql
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write_xlsx

AMOUNTS = {
    "¥1,234.56": "1234.56",
    "￥-20.00": "-20.00",
    "-¥3.10": "-3.10",
    "1,234.56元": "1234.56",
    "¥ 5": "5",
    "¥ -": "0",  # the accounting format's zero (会计专用)
    "￥-": "0",
    "￥1,000.00元": "1000.00",  # sign and unit both, as a hand-made sheet writes them
    "¥ 88 元": "88",
}
NOT_AMOUNTS = ["¥c", "abc", "12¥", "元", "¥", "1-2元", "¥元", "¥12RMB"]


@pytest.mark.parametrize("config", [ImportConfig(), ImportConfig(thousands_separator=",")])
def test_the_sql_and_python_forms_of_the_rule_agree(config: ImportConfig):
    conn = duckdb.connect()
    for text, number in AMOUNTS.items():
        assert plain_number(text, config) == number
        assert (
            conn.execute(f"SELECT {plain_number_sql('x', config)} FROM (SELECT ? AS x)", [text]).fetchone()[0] == number
        )
    for text in NOT_AMOUNTS:
        assert plain_number(text, config) is None
        assert (
            conn.execute(f"SELECT {plain_number_sql('x', config)} FROM (SELECT ? AS x)", [text]).fetchone()[0] == text
        )


def test_european_amounts_keep_their_separators_apart():
    config = ImportConfig(decimal_separator=",", thousands_separator=".")
    assert plain_number("¥1.234,56", config) == "1234,56"
    sql = plain_number_sql("x", config)
    assert duckdb.connect().execute(f"SELECT {sql} FROM (SELECT '¥1.234,56' AS x)").fetchone()[0] == "1234.56"


@pytest.mark.parametrize(
    ("config", "text", "number"),
    [
        (ImportConfig(thousands_separator=","), "2,000.00", "2000.00"),
        (ImportConfig(decimal_separator=","), "12,5", "12.5"),
        (ImportConfig(decimal_separator=",", thousands_separator="."), "1.234,5", "1234.5"),
        (ImportConfig(), "12.5", "12.5"),
    ],
)
def test_plain_numbers_beside_amounts_read_as_the_workbook_converter_reads_them(
    config: ImportConfig, text: str, number: str
):
    """A CSV column read as text for its amounts passed its plain numbers on as written: with the suggested
    thousands separator "2,000.00" failed the cast that a workbook cell passes, and so did "12,5" with ','
    as the decimal point."""
    sql = plain_number_sql("x", config)
    assert duckdb.connect().execute(f"SELECT {sql} FROM (SELECT ? AS x)", [text]).fetchone()[0] == number
    column = Planned(index=0, source="金额", name="金额", type="decimal", scale=2)
    assert Converter(column, config).to_decimal(text) == decimal.Decimal(number)


def _bill(path: Path) -> Path:
    path.write_text('日期,金额,备注\n2026-12-04,"¥1,234.56",¥c\n2026-12-05,￥-20.00,b\n2026-12-06,"1,234.56元",c\n')
    return path


@pytest.mark.parametrize("on_error", ["strict", "lenient"])
@pytest.mark.parametrize(("kind", "scale"), [("decimal", 2), ("float", None)])
def test_a_number_column_of_amounts_imports_as_numbers_and_text_columns_keep_their_signs(
    tmp_path: Path, limits: ImportLimits, run_import, on_error: str, kind: str, scale: int | None
):
    """Typed decimal, ¥1,234.56 was a rejected row (or the import failed): DuckDB reads no currency sign."""
    columns = {"金额": ColumnSpec(type=kind, scale=scale)}
    path = _bill(tmp_path / "bill.csv")
    shown = preview(path, "bill.csv", ImportConfig(columns=columns, on_error=on_error), limits)
    expected = ["1234.56", "-20.00", "1234.56"] if kind == "decimal" else [1234.56, -20.0, 1234.56]
    assert [row[1] for row in shown.rows] == expected
    result = run_import(path, columns=columns, on_error=on_error)
    assert result.rejected == 0
    rows = rows_of(result)
    assert [float(r["金额"]) for r in rows] == [1234.56, -20.0, 1234.56]
    assert [r["备注"] for r in rows] == ["¥c", "b", "c"]


def test_the_preview_suggests_decimal_for_a_text_column_of_amounts(tmp_path: Path, limits: ImportLimits, run_import):
    path = _bill(tmp_path / "bill.csv")
    shown = preview(path, "bill.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [
        ("columns", {"金额": ColumnSpec(type="decimal", scale=2)})
    ]
    result = run_import(path, columns=shown.suggested_config.columns)
    assert [r["金额"] for r in rows_of(result)] == [decimal.Decimal(v) for v in ("1234.56", "-20.00", "1234.56")]


def test_a_strict_import_of_a_non_amount_in_an_amount_column_fails_clearly(tmp_path: Path, run_import):
    path = tmp_path / "bill.csv"
    path.write_text("金额\n¥1.00\n¥2.00\nabc\n")
    with pytest.raises(ImportFailed, match="abc"):
        run_import(path, columns={"金额": ColumnSpec(type="decimal", scale=2)})


def test_workbook_amounts_follow_the_same_rule(tmp_path: Path, run_import):
    path = write_xlsx(tmp_path / "bill.xlsx", {"S": [["金额", "备注"], ["¥1,234.56", "¥c"], ["20.00元", "b"]]})
    result = run_import(path, columns={"金额": ColumnSpec(type="decimal", scale=2)})
    assert [(r["金额"], r["备注"]) for r in rows_of(result)] == [
        (decimal.Decimal("1234.56"), "¥c"),
        (decimal.Decimal("20.00"), "b"),
    ]


def test_a_strict_import_names_the_row_column_and_value_of_each_cell_that_is_no_amount(tmp_path: Path, run_import):
    """A money column (read as text, then converted) failed with DuckDB's bare "Could not convert string" message:
    no row, no column, nothing in `errors`, unlike every other cell that does not fit its type."""
    path = tmp_path / "bill.csv"
    path.write_text('日期,金额\n2026-12-04,"¥1,234.56"\n2026-12-05,"1,234.56元"\n2026-12-06,"¥1.2.3"\n2026-12-07,abc\n')
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns={"金额": ColumnSpec(type="decimal", scale=2)})
    assert caught.value.code == "import_failed"
    assert [(e["row"], e["column"], e["value"]) for e in caught.value.errors] == [
        (4, "金额", "¥1.2.3"),
        (5, "金额", "abc"),
    ]
    assert caught.value.detail.startswith("2 problem(s) found")
    assert "(row 4, column 金额)" in caught.value.detail


def test_the_amounts_a_strict_import_lists_are_those_of_the_rows_it_reads(tmp_path: Path, run_import):
    path = tmp_path / "bill.csv"
    path.write_text("金额\n¥1.00\nabc\n¥2.00\nxyz\n")
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns={"金额": ColumnSpec(type="decimal", scale=2)}, limit=3)
    assert [(e["row"], e["value"]) for e in caught.value.errors] == [(3, "abc")]


def test_a_csv_saved_from_the_accounting_format_reads_its_zeros_as_zero(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Excel's and WPS's 会计专用 format (`_ ¥* #,##0.00_ ;_ ¥* -#,##0.00_ ;_ ¥* "-"??_ `) saves a zero as `¥ -`:
    the column was no amount column (no suggestion), and typed decimal its zeros failed or became NULL."""
    path = tmp_path / "ledger.csv"
    path.write_text('科目,金额\n现金," ¥1,234.00 "\n银行," ¥-1,234.00 "\n应收," ¥ -   "\n')
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [(s.field, s.value["金额"].type) for s in shown.suggestions] == [("columns", "decimal")]
    rows = rows_of(run_import(path, columns=shown.suggested_config.columns, on_error="strict"))
    assert [r["金额"] for r in rows] == [decimal.Decimal(v) for v in ("1234.00", "-1234.00", "0.00")]
