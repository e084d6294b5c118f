"""CSV/TSV imports and previews through DuckDB: dialects, encodings, header and rows, columns, errors."""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, DuckDBSettings, ImportConfig, ImportLimits, import_file, preview
from app.ingest.errors import ImportCancelled, ImportFailed, InvalidImportConfig, LimitExceeded
from tests.unit.ingest.conftest import rows_of, write

SALES = "id,city,amount,day,paid\n1,Paris,10.5,2024-01-02,true\n2,Lyon,7.25,2024-01-03,false\n3,Nice,,2024-01-04,true\n"


def test_a_csv_is_imported_with_inferred_types_and_stats(tmp_path: Path, run_import):
    result = run_import(write(tmp_path / "sales.csv", SALES))
    assert result.rows == 3
    assert [(c.name, c.type) for c in result.columns] == [
        ("id", "integer"),
        ("city", "string"),
        ("amount", "float"),
        ("day", "date"),
        ("paid", "boolean"),
    ]
    amount = next(c for c in result.columns if c.name == "amount")
    assert (amount.nulls, amount.min, amount.max) == (1, "7.25", "10.5")
    assert rows_of(result)[0] == {"id": 1, "city": "Paris", "amount": 10.5, "day": dt.date(2024, 1, 2), "paid": True}
    assert sorted(os.listdir(tmp_path / "out")) == ["data.parquet"]


def test_numbers_too_long_for_a_64_bit_integer_keep_every_digit_as_decimal_or_text(tmp_path: Path, run_import):
    """Account and card numbers past 2^63: inferred integer, every row failed its cast and the import with it. They
    follow the rule JSON follows (duck.exact_number_type): DECIMAL(38, 0) up to 38 digits, text past that."""
    text = "id,account,huge\n1,12345678901234567890123,1" + "0" * 40 + "\n2,98765432109876543210,7\n"
    result = run_import(write(tmp_path / "accounts.csv", text))
    assert [(c.name, c.type) for c in result.columns] == [("id", "integer"), ("account", "decimal"), ("huge", "string")]
    assert [(r["account"], r["huge"]) for r in rows_of(result)] == [
        (Decimal("12345678901234567890123"), "1" + "0" * 40),
        (Decimal("98765432109876543210"), "7"),
    ]
    assert str(pq.read_schema(result.data_path).field("account").type) == "decimal128(38, 0)"
    assert result.config.columns is not None
    assert (result.config.columns["account"].type, result.config.columns["account"].scale) == ("decimal", 0)


def test_the_parquet_is_zstd_with_parquet_2_encodings(tmp_path: Path, run_import):
    # fewer bytes to upload on an S3 data root (app.ingest.import_job.PARQUET_OPTIONS); read back by pyarrow
    result = run_import(write(tmp_path / "sales.csv", SALES))
    meta = pq.ParquetFile(result.data_path).metadata
    chunks = [meta.row_group(0).column(k) for k in range(meta.num_columns)]
    assert {chunk.compression for chunk in chunks} == {"ZSTD"}
    assert "DELTA_BINARY_PACKED" in chunks[0].encodings  # the integer id
    assert [row["id"] for row in rows_of(result)] == [1, 2, 3]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path: Path, run_import, delimiter: str):
    result = run_import(write(tmp_path / "a.txt", SALES.replace(",", delimiter)))
    assert result.config.delimiter == delimiter
    assert rows_of(result)[1]["city"] == "Lyon"


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("latin-1", "latin-1")],
)
def test_encodings_are_read(tmp_path: Path, run_import, encoding: str, raw: str):
    text = "编号,城市\n1,北京\n2,上海\n" if encoding == "gb18030" else "id,city\n1,Besançon\n2,Orléans\n"
    result = run_import(write(tmp_path / "a.csv", text, raw))
    assert result.config.encoding == encoding
    values = [list(row.values()) for row in rows_of(result)]
    assert values[1][1] in ("上海", "Orléans")
    assert [c.name for c in result.columns][1] in ("城市", "city")


def test_header_row_and_skip_rows_find_the_data(tmp_path: Path, run_import):
    text = "Report of sales\ngenerated today\nid,amount\nunit,eur\n1,10\n2,20\n"
    result = run_import(write(tmp_path / "a.csv", text), header_row=3, skip_rows=1)
    assert rows_of(result) == [{"id": 1, "amount": 10}, {"id": 2, "amount": 20}]


def test_no_header_names_columns_by_position(tmp_path: Path, run_import):
    result = run_import(write(tmp_path / "a.csv", "1,a\n2,b\n"), header_row=0)
    assert rows_of(result) == [{"column_1": 1, "column_2": "a"}, {"column_1": 2, "column_2": "b"}]


def test_a_range_picks_rows_and_columns(tmp_path: Path, run_import):
    text = "junk,junk,junk\nx,id,name\n0,1,a\n0,2,b\n0,3,c\n"
    result = run_import(write(tmp_path / "a.csv", text), range="B2:C4")
    assert rows_of(result) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_columns_are_renamed_typed_and_dropped(tmp_path: Path, run_import):
    result = run_import(
        write(tmp_path / "a.csv", SALES),
        columns={
            "id": ColumnSpec(type="string"),
            "city": ColumnSpec(name="town"),
            "amount": ColumnSpec(type="decimal", scale=2),
            "day": ColumnSpec(include=False),
        },
    )
    assert [(c.name, c.type) for c in result.columns] == [
        ("id", "string"),
        ("town", "string"),
        ("amount", "decimal"),
        ("paid", "boolean"),
    ]
    assert str(rows_of(result)[0]["amount"]) == "10.50"


def test_an_unknown_column_in_the_config_is_named(tmp_path: Path, run_import):
    with pytest.raises(InvalidImportConfig) as caught:
        run_import(write(tmp_path / "a.csv", SALES), columns={"nope": ColumnSpec(name="x")})
    assert caught.value.errors[0]["field"] == "columns.nope"


def test_dates_with_a_format_and_european_numbers(tmp_path: Path, run_import):
    text = "when;amount\n03/01/2024;1.234,5\n04/01/2024;2,25\n"
    result = run_import(
        write(tmp_path / "a.csv", text),
        decimal_separator=",",
        thousands_separator=".",
        columns={"when": ColumnSpec(type="date", format="%d/%m/%Y"), "amount": ColumnSpec(type="float")},
    )
    assert rows_of(result) == [
        {"when": dt.date(2024, 1, 3), "amount": 1234.5},
        {"when": dt.date(2024, 1, 4), "amount": 2.25},
    ]


def test_null_markers_and_the_row_limit(tmp_path: Path, run_import):
    text = "id,v\n" + "".join(f"{i},{'NA' if i % 2 else i}\n" for i in range(100))
    result = run_import(write(tmp_path / "a.csv", text), null_values=["NA"], limit=10)
    assert result.rows == 10
    assert [row["v"] for row in rows_of(result)][:3] == [0, None, 2]


BAD = "id,amount\n1,10\n2,oops\n3,30\n4\n5,50,extra\n"


def test_strict_fails_listing_problems_with_row_and_column(tmp_path: Path, run_import):
    with pytest.raises(ImportFailed) as caught:
        run_import(write(tmp_path / "a.csv", BAD), columns={"amount": ColumnSpec(type="integer")})
    problems = caught.value.errors
    assert caught.value.code == "import_failed"
    assert (problems[0]["row"], problems[0]["column"]) == (3, "amount")
    assert {p["row"] for p in problems} == {3, 5, 6}
    assert not (tmp_path / "out" / "data.parquet").exists()
    assert os.listdir(tmp_path / "out") == []


def test_lenient_writes_good_rows_and_counts_rejects(tmp_path: Path, run_import):
    result = run_import(
        write(tmp_path / "a.csv", BAD), columns={"amount": ColumnSpec(type="integer")}, on_error="lenient"
    )
    assert [row["id"] for row in rows_of(result)] == [1, 3]
    assert result.rejected == 3
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert {r["row"] for r in rejects} == {3, 5, 6}
    assert all(r["message"] for r in rejects)


def test_a_broken_encoding_halfway_is_reported_with_its_line(tmp_path: Path, run_import):
    good = "".join(f"{i},ok\n" for i in range(10_000))  # ~90 KB: past the head the encoding is guessed from
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,name\n" + good.encode() + b"10000,caf\xe9\n10001,ok\n")
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert caught.value.errors[0]["row"] == 10_002
    assert "INVALID ENCODING" in caught.value.errors[0]["message"]
    lenient = run_import(path, on_error="lenient")
    assert (lenient.rows, lenient.rejected) == (10_001, 1)


def test_a_broken_gb18030_file_names_the_line(tmp_path: Path, run_import):
    path = tmp_path / "a.csv"
    path.write_bytes("编号,城市\n1,北京\n".encode("gb18030") * 200 + b"2,\xff\xff\xff\n")
    with pytest.raises(ImportFailed) as caught:
        run_import(path, encoding="gb18030")
    assert caught.value.errors[0]["row"] == 401
    assert os.listdir(tmp_path / "out") == []


def test_the_preview_warns_about_ragged_rows_and_duplicate_headers(tmp_path: Path, limits: ImportLimits):
    path = write(tmp_path / "a.csv", "a,a,,b\n1,2,3,4\n5,6\n7,8,9,10\n")
    shown = preview(path, "a.csv", ImportConfig(), limits, rows=10)
    assert [c.name for c in shown.columns] == ["a", "a_2", "column_3", "b"]
    assert shown.rows == [[1, 2, 3, 4], [7, 8, 9, 10]]
    text = " ".join(shown.warnings)
    assert "duplicate column name 'a'" in text
    assert "empty header" in text
    assert "row 3" in text


def test_the_preview_says_it_showed_its_limit_only_when_the_file_had_more_rows(tmp_path: Path, limits: ImportLimits):
    """A 2-row file previewed with rows=100 was told 'showing 50 rows, the max_preview_rows limit'."""
    path = write(tmp_path / "a.csv", "n\n" + "".join(f"{i}\n" for i in range(60)))
    shown = preview(path, "a.csv", ImportConfig(), limits, rows=100)
    assert len(shown.rows) == 50
    assert "max_preview_rows" in shown.warnings[0]
    small = preview(write(tmp_path / "b.csv", "n\n1\n2\n"), "b.csv", ImportConfig(), limits, rows=100)
    assert not any("max_preview_rows" in warning for warning in small.warnings)


def test_the_preview_reads_only_the_head_and_echoes_the_config(tmp_path: Path, limits: ImportLimits):
    path = write(tmp_path / "a.csv", SALES.replace(",", ";"), "latin-1")
    shown = preview(path, "a.csv", ImportConfig(), limits, rows=1000)
    assert len(shown.rows) == 3
    assert not any("max_preview_rows" in warning for warning in shown.warnings)  # the file has no more to show
    assert (shown.format, shown.header_row, shown.config.delimiter) == ("csv", 1, ";")
    assert shown.config.columns is not None
    assert shown.config.columns["day"].type == "date"
    # the echoed config imports what was shown
    assert shown.config.validate() is shown.config


def test_a_preview_of_a_long_file_shows_only_the_first_rows(tmp_path: Path, limits: ImportLimits):
    path = write(tmp_path / "a.csv", "id,v\n" + "".join(f"{i},{i * 2}\n" for i in range(20_000)))
    shown = preview(path, "a.csv", ImportConfig(), limits, rows=5)
    assert shown.rows == [[0, 0], [1, 2], [2, 4], [3, 6], [4, 8]]


def test_a_cancelled_import_leaves_nothing(tmp_path: Path, limits: ImportLimits, settings: DuckDBSettings):
    path = write(tmp_path / "a.csv", SALES)
    with pytest.raises(ImportCancelled):
        import_file(
            path,
            filename="a.csv",
            config=ImportConfig(),
            limits=limits,
            out_dir=tmp_path / "out",
            duckdb_settings=settings,
            should_stop=lambda: True,
        )
    assert os.listdir(tmp_path / "out") == []


def test_a_running_copy_can_be_interrupted(tmp_path: Path):
    import duckdb

    from app.ingest.duck import run

    conn = duckdb.connect()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    with pytest.raises(ImportCancelled):
        run(conn, "SELECT count(*) FROM range(100000000000)", should_stop=stop.is_set)


def test_the_duckdb_connection_cannot_read_other_files(tmp_path: Path, settings: DuckDBSettings):
    from app.ingest.duck import connect

    allowed, other = write(tmp_path / "a.csv", "a\n1\n"), write(tmp_path / "b.csv", "a\n2\n")
    conn = connect(settings, readable=[str(allowed)], writable=[str(tmp_path / "w")])
    assert conn.execute(f"SELECT * FROM read_csv('{allowed}')").fetchall() == [(1,)]
    with pytest.raises(Exception, match="Permission"):
        conn.execute(f"SELECT * FROM read_csv('{other}')")
    with pytest.raises(Exception, match="configuration"):
        conn.execute("SET enable_external_access = true")


def test_a_line_over_the_limit_fails_clearly(tmp_path: Path, run_import):
    path = write(tmp_path / "a.csv", "id,v\n1," + "x" * 300_000 + "\n2,y\n")
    with pytest.raises(LimitExceeded, match="max_line_bytes=100000"):
        run_import(path, job_limits=ImportLimits(max_line_bytes=100_000))
    assert os.listdir(tmp_path / "out") == []


def test_a_preview_whose_first_data_line_is_past_its_head_fails_as_the_import_does(tmp_path: Path, run_import):
    """The preview reads the first 4 MB as whole lines: a first data line longer than that left the header alone,
    and the preview answered no rows and 'the data rows have 1 column' while the import failed on the line."""
    path = write(tmp_path / "a.csv", "id,v\n1," + "x" * 5_000_000 + "\n2,y\n")
    limits = ImportLimits(max_line_bytes=4_500_000)
    with pytest.raises(LimitExceeded, match="max_line_bytes=4500000 \\(line 2 has more than 4500000 bytes\\)"):
        preview(path, "a.csv", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match="max_line_bytes=4500000"):
        run_import(path, job_limits=limits)


def test_a_preview_takes_in_a_first_data_line_past_its_head_that_the_import_reads(tmp_path: Path, limits):
    path = write(tmp_path / "a.csv", "id,v\n1," + "x" * 5_000_000 + "\n2,y\n")
    shown = preview(path, "a.csv", ImportConfig(), limits)
    assert [row[0] for row in shown.rows] == [1]  # the head ends at the line break after it
    assert len(shown.rows[0][1]) < 5_000_000  # the cell cut for the page, as any long cell
    assert not any("data rows" in warning for warning in shown.warnings)


def test_the_preview_warns_about_a_mostly_numeric_text_column(tmp_path: Path, limits: ImportLimits):
    path = write(tmp_path / "a.csv", "id,qty\n1,5\n2,n/a\n3,7\n4,8\n")
    shown = preview(path, "a.csv", ImportConfig(), limits)
    assert shown.columns[1].type == "string"
    assert any("mostly numbers" in warning and "n/a" in warning for warning in shown.warnings)
