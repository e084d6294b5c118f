"""Amounts a person reads as numbers that stayed text: a currency code (RMB 1,234.50, CNY1,234.50), a sign before
accounting parentheses (¥(1,234.00)), a percentage in them ((12.5%)) and SAP's trailing minus (1,234.50-). One rule
(app.ingest.money), in SQL and Python, CSV and workbooks alike; a column where anything does not read stays text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.money import plain_number, plain_number_sql
from app.ingest.preview import preview
from tests.unit.ingest.conftest import applied, rows_of, write, write_xlsx

AMOUNTS = {
    "RMB 1,234.50": "1234.50",
    "CNY1,234.50": "1234.50",
    "-RMB 3": "-3",
    "1,234.50 CNY": "1234.50",
    "¥(1,234.00)": "-1234.00",
    "(¥1,234.00)": "-1234.00",
    "RMB (7)": "-7",
    "1,234.50-": "-1234.50",
    "¥1,234.50-": "-1234.50",
    "(12.5%)": "-0.125",
    "12.5%-": "-0.125",
    "RMB -": "0",
    # 万 and 亿 (ten thousand, a hundred million): test_wan_yi_amounts
    "1.2万": "12000",
    "3亿元": "300000000",
    "-0.5万": "-5000",
    "\uff11\uff0e\uff15万": "15000",
    "2,000万": "20000000",
}
NOT_AMOUNTS = [
    "RMB",
    "RMBX 5",
    "(-2)",
    "-(2)",
    "5--",
    "(¥-5)",
    "(¥12.5%)",
    "2024-01-",
    "1-2-",
    "-",
    "万",
    "1.2万万",
    "万1.2",
]


@pytest.mark.parametrize("config", [ImportConfig(), ImportConfig(thousands_separator=",")])
def test_the_sql_and_python_forms_read_each_form_alike(config: ImportConfig) -> None:
    conn = duckdb.connect()

    def sql(text: str) -> str:
        return conn.execute(f"SELECT {plain_number_sql('x', config)} FROM (SELECT ? AS x)", [text]).fetchone()[0]

    for text, number in AMOUNTS.items():
        assert plain_number(text, config) == number, text
        assert Decimal(sql(text)) == Decimal(number), text
    for text in NOT_AMOUNTS:
        assert plain_number(text, config) is None, text
        assert sql(text) == text, text


ROWS = [
    ["k", "amount", "rate", "note"],
    ["a", "RMB 1,234.50", "(12.5%)", "1,234.50-"],
    ["b", "CNY1,234.50", "5%", "abc"],
    ["c", "¥(1,234.00)", "(3%)", "7"],
    ["d", "1,234.50-", "12.5%", "8"],
]
EXPECTED = [
    (Decimal("1234.50"), Decimal("-0.125")),
    (Decimal("1234.50"), Decimal("0.050")),
    (Decimal("-1234.00"), Decimal("-0.030")),
    (Decimal("-1234.50"), Decimal("0.125")),
]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_such_columns_are_suggested_decimal_and_import_as_a_person_reads_them(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str
) -> None:
    if kind == "csv":
        path = tmp_path / "ledger.csv"
        path.write_text("\n".join(",".join(f'"{cell}"' for cell in row) for row in ROWS) + "\n")
    else:
        path = write_xlsx(tmp_path / "ledger.xlsx", {"S": ROWS})
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [s.field for s in shown.suggestions] == ["columns"]
    columns = shown.suggested_config.columns
    assert columns == {"amount": ColumnSpec(type="decimal", scale=2), "rate": ColumnSpec(type="decimal", scale=3)}
    assert [c.type for c in shown.columns] == ["string"] * 4  # a suggestion, not a change
    rows = rows_of(run_import(path, columns=columns, on_error="strict"))
    assert [(r["amount"], r["rate"]) for r in rows] == EXPECTED
    assert [r["note"] for r in rows] == ["1,234.50-", "abc", "7", "8"]  # a column that does not all read stays text


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_placeholders_beside_amounts_written_as_text_are_suggested_as_nulls(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str
) -> None:
    """A report writes `--` or `-` for no amount beside 1,000.00 and 12.5%: only plain numbers counted as the
    numbers the placeholders made text, so neither was suggested, and the column stayed text whatever was applied."""
    rows = [["门店", "金额", "占比"], ["一店", "1,000.00", "12.5%"], ["二店", "--", "-"], ["三店", "2,000.00", "50%"]]
    if kind == "csv":
        path = tmp_path / "门店.csv"
        path.write_text("".join(",".join(f'"{c}"' for c in row) + "\n" for row in rows), encoding="utf-8")
    else:
        path = write_xlsx(tmp_path / "门店.xlsx", {"S": rows})
    config = applied(path, limits)
    assert set(config.null_values or []) == {"--", "-"}
    given = {f: getattr(config, f) for f in ("null_values", "columns", "thousands_separator")}
    stored = rows_of(run_import(path, **given))
    assert [(float(r["金额"]) if r["金额"] is not None else None) for r in stored] == [1000.0, None, 2000.0]
    assert [(float(r["占比"]) if r["占比"] is not None else None) for r in stored] == [0.125, None, 0.5]


def test_a_semicolon_csv_of_decimal_commas_is_suggested_its_separators_and_then_imports_numbers(
    tmp_path: Path, limits: ImportLimits, run_import
):
    # given a German-locale Excel export: ';' between fields, ',' before the decimals, '.' between thousands
    path = write(
        tmp_path / "eu.csv", "日期;金额;数量;备注\n2024-01-05;1.234,50;3;a\n2024-01-06;99,00;4;b\n2024-01-07;12,5;5;c\n"
    )
    shown = preview(path, path.name, ImportConfig(), limits)
    assert shown.columns[1].type == "string"
    # then the preview suggests both separators, naming the column and an example
    assert [(s.field, s.value) for s in shown.suggestions] == [("decimal_separator", ","), ("thousands_separator", ".")]
    assert "'金额' (such as '1.234,50')" in shown.suggestions[0].reason
    assert type(shown.suggestions[0].notice).__name__ == "DecimalComma"
    # and once applied the amounts import as numbers, with nothing more suggested
    settled = applied(path, limits)
    assert (settled.decimal_separator, settled.thousands_separator) == (",", ".")
    assert settled.columns["金额"].type == "float"
    imported = rows_of(run_import(path, decimal_separator=",", thousands_separator="."))
    assert [r["金额"] for r in imported] == [1234.5, 99.0, 12.5]


def test_a_comma_csv_gets_no_decimal_comma_suggestion_nor_does_a_column_of_words(tmp_path: Path, limits: ImportLimits):
    quoted = write(tmp_path / "comma.csv", '金额,备注\n"12,5",a\n"3,25",b\n')  # ',' delimiter: 12,5 may be a list
    words = write(tmp_path / "words.csv", "金额;备注\n12,5;a,b\n3,25;不详\n")
    assert preview(quoted, quoted.name, ImportConfig(), limits).suggestions == []
    (found,) = preview(words, words.name, ImportConfig(), limits).suggestions  # no '.' anywhere: no thousands
    assert (found.field, found.value) == ("decimal_separator", ",")
    assert "'金额'" in found.reason
    assert "备注" not in found.reason
