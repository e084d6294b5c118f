"""How values an analyst cares about come out typed: dates written as numbers, offsets, durations, long digit
strings, null placeholders (the cases of real exports that earlier tests did not cover)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from app.domain.dataset_reader import Reader
from app.ingest import ColumnSpec, DuckDBSettings, ImportConfig, ImportLimits, preview
from app.ingest.errors import ImportFailed
from app.ingest.money import plain_number, plain_number_sql
from tests.unit.ingest.conftest import rows_of, write_xlsx
from tests.workbook_files import Error, ods_workbook


def test_numbers_in_a_workbook_column_typed_as_a_date_are_excel_serials_or_read_through_the_format(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """A serial date in a cell not formatted as one (45296: 2024-01-05) became 2094-01-06, pyarrow's day 45296 after
    1970; 20240105 typed as a date with the format %Y%m%d became year 57,000 and the preview failed with a 500."""
    serials = write_xlsx(tmp_path / "serials.xlsx", {"S": [["k", "d"], ["a", 45296], ["b", 45651.5]]})
    typed = {"d": ColumnSpec(type="date")}
    assert [r["d"] for r in rows_of(run_import(serials, columns=typed))] == [dt.date(2024, 1, 5), dt.date(2024, 12, 25)]
    stamped = run_import(serials, columns={"d": ColumnSpec(type="datetime")})
    assert [r["d"] for r in rows_of(stamped)] == [dt.datetime(2024, 1, 5), dt.datetime(2024, 12, 25, 12)]

    digits = write_xlsx(tmp_path / "digits.xlsx", {"S": [["k", "d"], ["a", 20240105], ["b", 20241225]]})
    formatted = {"d": ColumnSpec(type="date", format="%Y%m%d")}
    shown = preview(digits, "digits.xlsx", ImportConfig(columns=formatted), limits)
    assert shown.rows == [["a", "2024-01-05"], ["b", "2024-12-25"]]
    assert [r["d"] for r in rows_of(run_import(digits, columns=formatted))] == [
        dt.date(2024, 1, 5),
        dt.date(2024, 12, 25),
    ]


def test_a_number_past_the_last_excel_date_is_a_bad_cell_not_a_crash(tmp_path: Path, limits: ImportLimits):
    digits = write_xlsx(tmp_path / "digits.xlsx", {"S": [["k", "d"], ["a", 20240105], ["b", 45296]]})
    shown = preview(digits, "digits.xlsx", ImportConfig(columns={"d": ColumnSpec(type="date")}), limits)
    assert shown.rows == [["b", "2024-01-05"]]
    assert any("row 2, column d" in w and "no Excel serial date" in w for w in shown.warnings)


def test_csv_times_with_a_utc_offset_import_as_the_instant_in_utc_and_say_so(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """The offset was dropped: 08:00+08:00 and 00:00Z, one instant, imported as 08:00 and 00:00. A time without an
    offset among them (which was taken as UTC) is a bad value: its instant is unknown (app.ingest.utc_offsets)."""
    path = tmp_path / "zoned.csv"
    path.write_text("k,at\na,2024-01-05T08:00:00+08:00\nb,2024-01-05T00:00:00Z\nc,2024-01-05 09:30:00\n")
    shown = preview(path, "zoned.csv", ImportConfig(), limits)
    assert [row[1] for row in shown.rows] == ["2024-01-05T00:00:00", "2024-01-05T00:00:00"]
    said = "column 'at' holds times with a UTC offset (such as '2024-01-05T08:00:00+08:00'): imported in UTC"
    assert said in shown.warnings
    assert any(w.startswith("row 4, column at:") and "has no UTC offset" in w for w in shown.warnings)
    result = run_import(path, on_error="lenient")
    assert [r["at"] for r in rows_of(result)] == [dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 5)]
    assert result.rejected == 1
    assert said in result.warnings


def test_workbook_durations_read_as_excel_shows_them_past_24_hours_too(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """A [h]:mm:ss cell (calamine: a timedelta) became its seconds as text, '91800.0' for 25:30:00."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in [["k", "worked"], ["a", dt.timedelta(hours=25, minutes=30)], ["b", dt.timedelta(hours=8, seconds=3)]]:
        book.active.append(row)
    book.active.append(["c", dt.timedelta(minutes=1, seconds=0.5)])
    for (cell,) in book.active.iter_rows(min_row=2, min_col=2):
        cell.number_format = "[h]:mm:ss"
    path = tmp_path / "shifts.xlsx"
    book.save(path)
    expected = ["25:30:00", "8:00:03", "0:01:00.500000"]
    assert [row[1] for row in preview(path, "shifts.xlsx", ImportConfig(), limits).rows] == expected
    assert [r["worked"] for r in rows_of(run_import(path))] == expected


def test_id_and_card_numbers_a_workbook_stores_as_numbers_are_said_to_have_lost_digits(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Stored as text they stay text, every digit; stored as numbers the file keeps 15 significant digits (Excel
    zeroes the rest as they are typed): that is said, not passed over as a column of 1.1E+17 floats."""
    rows = [["name", "id", "card", "amount"], ["a", "11010119900307123X", 6222021234567890, 1e15 - 1]]
    rows += [["b", "110101199003071238", 6222021234567891, 12.5]]
    path = write_xlsx(tmp_path / "people.xlsx", {"S": [*rows, ["c", 110101199003077777, 4367421234567890, 3]]})
    shown = preview(path, "people.xlsx", ImportConfig(), limits)
    said = (
        "column {!r} holds numbers of 16 or more digits (such as {}) stored as numbers: a workbook keeps 15 "
        "significant digits, so ID and card numbers stored this way lost their last digits in the file itself; "
        "format the column as text in the workbook, enter them again and export"
    )
    warnings = [w for w in shown.warnings if "16 or more digits" in w]
    assert [w.partition(" holds")[0] for w in warnings] == ["column 'id'", "column 'card'"]  # 'id': text and numbers
    assert warnings[1] == said.format("card", "6222021234567890")
    stored = [["id", "card"], ["11010119900307123X", "6222021234567890123"], ["110101199003071238", "6222021234567890"]]
    result = run_import(write_xlsx(tmp_path / "text.xlsx", {"S": stored}))
    assert [(c.name, c.type) for c in result.columns] == [("id", "string"), ("card", "string")]
    assert [list(r.values()) for r in rows_of(result)] == stored[1:]
    assert not [w for w in result.warnings if "16 or more digits" in w]


def test_numbers_that_lost_digits_past_the_workbooks_type_sample_are_said_to_have_too(tmp_path: Path, run_import):
    """The warning looked at the 1,000 rows types are sampled from: card numbers stored as numbers from row 1,002
    on were imported as rounded floats with nothing said."""
    rows = [["n", "card"], *([i, i] for i in range(1000)), [1000, 6222021234567890123], [1001, 3]]
    result = run_import(write_xlsx(tmp_path / "late.xlsx", {"S": rows}))
    assert [(c.name, c.type) for c in result.columns] == [("n", "integer"), ("card", "integer")]
    warnings = [w for w in result.warnings if "16 or more digits" in w]
    stored = rows_of(result)[1000]["card"]  # as the file holds it, a double
    assert stored != 6222021234567890123
    assert [w.partition(" stored")[0] for w in warnings] == [
        f"column 'card' holds numbers of 16 or more digits (such as {stored})"
    ]
    early = run_import(write_xlsx(tmp_path / "early.xlsx", {"S": [["card"], [6222021234567890], [1]]}))
    assert len([w for w in early.warnings if "16 or more digits" in w]) == 1  # said once, from the sample


def test_whole_numbers_a_browser_cannot_hold_are_shown_as_text_in_previews_and_row_pages(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """A CSV column of 18-digit ID numbers and 19-digit cards is BIGINT, exact in the dataset; shown as JSON
    numbers the console's JSON.parse rounded them (110101199003077777 showed as 110101199003077780)."""
    path = tmp_path / "people.csv"
    path.write_text("id,card,n\n110101199003077777,6222021234567890123,9007199254740991\n110101199003071238,1,-2\n")
    shown = preview(path, "people.csv", ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["integer", "integer", "integer"]
    assert shown.rows == [
        ["110101199003077777", "6222021234567890123", 9007199254740991],
        ["110101199003071238", 1, -2],
    ]
    result = run_import(path)
    assert [r["id"] for r in rows_of(result)] == [110101199003077777, 110101199003071238]  # the data keeps numbers
    with Reader(result.data_path, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as reader:
        page = reader.rows(offset=0, limit=10, columns=None, order_by=[], filters=[])
    assert page["rows"] == shown.rows


def test_null_and_the_error_texts_libreoffice_writes_are_suggested_as_placeholders(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """NULL (database exports) and an ods's localized or LibreOffice-own errors (German #NV for #N/A, Err:502) made
    a number column text with no `null_values` suggestion: only Excel's English error texts were known."""
    csv_path = tmp_path / "export.csv"
    csv_path.write_text("k,qty\na,5\nb,NULL\nc,7\nd,8\n")
    assert preview(csv_path, "export.csv", ImportConfig(), limits).suggested_config == ImportConfig(
        null_values=["NULL"]
    )
    rows = [["k", "qty"], ["a", 5], ["b", Error("#NV")], ["c", Error("Err:502")], ["d", 7], ["e", 8], ["f", 9]]
    ods = ods_workbook(tmp_path / "book.ods", {"Data": rows})
    shown = preview(ods, "book.ods", ImportConfig(), limits)
    assert shown.suggested_config == ImportConfig(null_values=["#NV", "Err:502"])
    result = run_import(ods, null_values=["#NV", "Err:502"])
    assert [(c.name, c.type) for c in result.columns] == [("k", "string"), ("qty", "integer")]
    assert [r["qty"] for r in rows_of(result)] == [5, None, None, 7, 8, 9]


def test_percentages_written_as_text_import_as_fractions_in_number_columns(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """12.5% is 0.125, as Excel stores a percent cell: a CSV column of them was text with nothing suggested, and
    typed as a number every row was bad (in CSV and in a workbook's text cells alike)."""
    path = tmp_path / "rates.csv"
    path.write_text('k,rate\na,12.5%\nb,3%\nc,-0.5 %\nd,"1,250%"\n')
    shown = preview(path, "rates.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [
        ("columns", {"rate": ColumnSpec(type="decimal", scale=3)})
    ]
    fractions = [Decimal("0.125"), Decimal("0.030"), Decimal("-0.005"), Decimal("12.500")]
    assert [r["rate"] for r in rows_of(run_import(path, columns=shown.suggested_config.columns))] == fractions
    book = write_xlsx(tmp_path / "rates.xlsx", {"S": [["k", "rate"], ["a", "12.5%"], ["b", 0.03], ["c", "-0.5%"]]})
    result = run_import(book, columns={"rate": ColumnSpec(type="float")})
    assert [r["rate"] for r in rows_of(result)] == [0.125, 0.03, -0.005]


@pytest.mark.parametrize("config", [ImportConfig(), ImportConfig(decimal_separator=",", thousands_separator=".")])
def test_the_sql_and_python_forms_of_the_percent_rule_agree(config: ImportConfig):
    texts = ["12.5%", "3%", "-0.5 %", "+7%"] if config.decimal_separator is None else ["12,5%", "1.250%"]
    conn = duckdb.connect()
    for text in texts:
        python = plain_number(text, config)
        sql = conn.execute(f"SELECT {plain_number_sql('x', config)} FROM (SELECT ? AS x)", [text]).fetchone()[0]
        assert python is not None
        written = text.replace(" ", "").removesuffix("%")
        if config.decimal_separator == ",":
            written = written.replace(".", "").replace(",", ".")
        assert Decimal(python) == Decimal(sql) == Decimal(written) / 100
    assert plain_number("12%%", config) is None


def test_a_percentage_that_is_no_number_is_named_by_a_strict_import_and_rejected_by_a_lenient_one(
    tmp_path: Path, run_import
):
    path = tmp_path / "rates.csv"
    path.write_text("k,rate\na,12.5%\nb,1.2.3%\n")
    typed = {"rate": ColumnSpec(type="decimal", scale=3)}
    with pytest.raises(ImportFailed, match=r"1\.2\.3%"):
        run_import(path, columns=typed)
    lenient = run_import(path, columns=typed, on_error="lenient")
    assert [r["rate"] for r in rows_of(lenient)] == [Decimal("0.125")]
    assert lenient.rejected == 1


def test_accounting_negatives_in_parentheses_read_as_negative_numbers_and_are_suggested(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """(1,234.50) is -1234.50 as accounting exports write it: a column of them was text, nothing suggested, and
    typed as a number every such row was bad."""
    path = tmp_path / "ledger.csv"
    path.write_text('k,change\na,"(1,234.50)"\nb,200\nc,( 3 )\n')
    shown = preview(path, "ledger.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [
        ("columns", {"change": ColumnSpec(type="decimal", scale=2)})
    ]
    expected = [Decimal("-1234.50"), Decimal("200.00"), Decimal("-3.00")]
    assert [r["change"] for r in rows_of(run_import(path, columns=shown.suggested_config.columns))] == expected
    book = write_xlsx(tmp_path / "ledger.xlsx", {"S": [["k", "change"], ["a", "(1,234.50)"], ["b", 7]]})
    assert [r["change"] for r in rows_of(run_import(book, columns={"change": ColumnSpec(type="float")}))] == [
        -1234.5,
        7.0,
    ]
    conn = duckdb.connect()
    for text in ["(1,234.50)", "( 3 )", "(abc)", "(1", "-(2)"]:
        sql = conn.execute(f"SELECT {plain_number_sql('x', ImportConfig())} FROM (SELECT ? AS x)", [text]).fetchone()
        assert sql[0] == (plain_number(text, ImportConfig()) or text.strip())


def test_chinese_yes_and_no_read_as_booleans_and_are_suggested(tmp_path: Path, limits: ImportLimits, run_import):
    """是/否 is how forms and HR exports write a flag: text with nothing suggested, and typed boolean every row was
    bad (Y/N, TRUE/FALSE and 1/0 already read so)."""
    path = tmp_path / "staff.csv"
    path.write_text("工号,在职\n00123,是\n00456,否\n01000, 是\n")
    shown = preview(path, "staff.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("columns", {"在职": ColumnSpec(type="boolean")})]
    result = run_import(path, columns=shown.suggested_config.columns)
    assert [(r["工号"], r["在职"]) for r in rows_of(result)] == [("00123", True), ("00456", False), ("01000", True)]
    book = write_xlsx(tmp_path / "staff.xlsx", {"S": [["工号", "在职"], ["00123", "是"], ["00456", "否"]]})
    typed = run_import(book, columns={"在职": ColumnSpec(type="boolean")})
    assert [r["在职"] for r in rows_of(typed)] == [True, False]


def test_full_width_digits_read_as_numbers_in_number_columns_in_csv_as_in_workbooks(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Full-width digits (as a Chinese input method types them in full-width mode): a workbook's number column read
    them (Python reads any Unicode digit), a CSV's did not, and a text column of them got no suggestion."""
    path = tmp_path / "counts.csv"
    path.write_text(f"k,qty\na,{wide('123')}\nb,{wide('45.5')}\nc,6\nd,{wide('-7')}\n")
    shown = preview(path, "counts.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [
        ("columns", {"qty": ColumnSpec(type="decimal", scale=1)})
    ]
    result = run_import(path, columns=shown.suggested_config.columns)
    assert [r["qty"] for r in rows_of(result)] == [Decimal("123.0"), Decimal("45.5"), Decimal("6.0"), Decimal("-7.0")]
    assert plain_number(wide("123"), ImportConfig()) == "123"
    assert plain_number(wide("12") + "ab", ImportConfig()) is None
    conn = duckdb.connect()
    for text in [wide("1,234"), wide("-7"), wide("(3)"), wide("12.5%"), "¥" + wide("5"), wide("12") + "ab"]:
        python = plain_number(text, ImportConfig())
        sql = conn.execute(f"SELECT {plain_number_sql('x', ImportConfig())} FROM (SELECT ? AS x)", [text]).fetchone()
        assert (sql[0] if python is None else Decimal(sql[0])) == (text if python is None else Decimal(python))
    book = write_xlsx(tmp_path / "counts.xlsx", {"S": [["k", "qty"], ["a", wide("123")], ["b", wide("-7")]]})
    assert [r["qty"] for r in rows_of(run_import(book, columns={"qty": ColumnSpec(type="integer")}))] == [123, -7]


def wide(text: str) -> str:
    """`text` in full-width characters (U+FF01-U+FF5E mirror ASCII '!'-'~')."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_a_column_of_id_numbers_some_ending_in_x_is_text_without_a_stray_text_warning(
    tmp_path: Path, limits: ImportLimits
):
    """'mostly numbers but holds text such as 11010119900307123X' told the user to fix the one right reading: an
    18-character ID number ends in a check character that is X one time in eleven."""
    path = tmp_path / "people.csv"
    path.write_text("name,id\na,110101199003077777\nb,11010119900307123X\nc,110101199003071238\n")
    shown = preview(path, "people.csv", ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["string", "string"]
    assert not [w for w in shown.warnings if "mostly numbers" in w]
    stray = tmp_path / "stray.csv"
    stray.write_text("name,qty\na,1\nb,x\nc,3\n")
    assert (
        "column 'qty' is mostly numbers but holds text such as 'x'; read as text"
        in preview(stray, "stray.csv", ImportConfig(), limits).warnings
    )


def test_empty_csv_cells_stay_null_when_null_values_are_set(tmp_path: Path, limits: ImportLimits, run_import):
    """Setting null_values (as the preview suggests N/A) replaced DuckDB's empty-cell marker: empty cells became
    empty strings, and a number column holding one turned text, the opposite of what the suggestion promised.
    Workbooks read an empty cell as NULL whatever null_values says; CSV now does too."""
    path = tmp_path / "sparse.csv"
    path.write_text("k,qty,note\na,5,x\nb,N/A,\nc,,y\nd,8,z\n")
    shown = preview(path, "sparse.csv", ImportConfig(), limits)
    assert shown.suggested_config == ImportConfig(null_values=["N/A"])
    applied = preview(path, "sparse.csv", shown.suggested_config, limits)
    assert [c.type for c in applied.columns] == ["string", "integer", "string"]
    assert applied.rows == [["a", 5, "x"], ["b", None, None], ["c", None, "y"], ["d", 8, "z"]]
    result = run_import(path, null_values=["N/A"])
    assert [list(r.values()) for r in rows_of(result)] == applied.rows


def test_a_decimal_column_without_decimal_places_shows_its_values_as_written_in_previews_and_row_pages(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Stored at the default scale (9 places), 2340 showed as 2340.000000000; a scale the user set keeps its places."""
    path = tmp_path / "amounts.csv"
    path.write_text("金额\n2340\n12.5\n-0.125\n0\n")
    columns = {"金额": ColumnSpec(type="decimal")}
    shown = preview(path, "amounts.csv", ImportConfig(columns=columns), limits)
    assert shown.rows == [["2340"], ["12.5"], ["-0.125"], ["0"]]
    result = run_import(path, columns=columns)
    assert [r["金额"] for r in rows_of(result)] == [Decimal("2340"), Decimal("12.5"), Decimal("-0.125"), Decimal(0)]
    with Reader(result.data_path, tmp_path / "work", DuckDBSettings(memory_limit="128MB", threads=1)) as reader:
        assert reader.rows(offset=0, limit=10, columns=None, order_by=[], filters=[])["rows"] == shown.rows
    places = preview(path, "amounts.csv", ImportConfig(columns={"金额": ColumnSpec(type="decimal", scale=2)}), limits)
    assert places.rows == [["2340.00"], ["12.50"], ["-0.13"], ["0.00"]]
