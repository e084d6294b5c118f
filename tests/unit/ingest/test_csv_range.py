"""A CSV float column's `1e400` became +infinity (and `-1e400` -infinity) with no word, inside the sampled rows
and past them: a strict import now fails with number_out_of_range naming row, column and value, as a JSON number
does, and a lenient one reads the column as text, every value as written, with a notice (app.ingest.csv_range)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, import_file, preview
from app.ingest.config import DuckDBSettings
from app.ingest.csv_reader import SAMPLE_ROWS
from app.ingest.data_sink import SinkSpent
from app.ingest.number_range import NumberOutOfRange
from tests.unit.ingest.conftest import rows_of

#: Data rows before the one past the sample (the header is line 1).
PAST = SAMPLE_ROWS + 500


def _csv(path: Path, value: str, at: int, rows: int) -> Path:
    """`rows` rows of an id and a float, `value` as the float of data row `at` (from 1)."""
    lines = ["id,v"] + [f"{n},{value if n == at else f'{n}.5'}" for n in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("value", "at", "rows", "became"),
    [
        ("1e400", 3, 5, "infinity"),
        ("-1E+400", PAST, PAST + 10, "-infinity"),
        ("1e400", PAST, PAST, "infinity"),
        ("1e-400", 3, 5, "0"),  # underflow: it was read as 0 with nothing said
        ("-2.5E-999", PAST, PAST + 10, "0"),
    ],
)
def test_a_strict_import_refuses_a_float_no_double_holds_in_and_past_the_sample(
    tmp_path: Path, run_import, value: str, at: int, rows: int, became: str
) -> None:
    # Given a float column holding 1e400 in the sampled rows or past them
    path = _csv(tmp_path / "big.csv", value, at, rows)
    # When it is imported strictly, then it fails naming the line, the column and the value
    with pytest.raises(NumberOutOfRange) as caught:
        run_import(path, on_error="strict")
    assert caught.value.code == "number_out_of_range"
    assert caught.value.errors[0]["row"] == at + 1
    assert caught.value.errors[0]["column"] == "v"
    assert f"the number {value} is beyond" in caught.value.detail
    assert f"read as {became}:" in caught.value.detail
    assert not (tmp_path / "out" / "data.parquet").exists()


def test_an_underflowing_float_is_found_as_an_overflowing_one_in_preview_and_lenient_import(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    """`1e-400` read as 0.0 with nothing said, in CSV only (a JSON number so written failed): the same rule now."""
    path = _csv(tmp_path / "tiny.csv", "1e-400", 2, 4)
    with pytest.raises(NumberOutOfRange) as caught:
        preview(path, path.name, ImportConfig(on_error="strict"), limits)
    assert caught.value.errors[0]["row"] == 3
    shown = preview(path, path.name, ImportConfig(on_error="lenient"), limits)
    assert shown.rows[1] == [2, "1e-400"]
    past = _csv(tmp_path / "late.csv", "1e-400", PAST, PAST + 3)
    result = run_import(past, on_error="lenient")
    assert [(c.name, c.type) for c in result.columns] == [("id", "integer"), ("v", "string")]
    assert rows_of(result)[PAST - 1]["v"] == "1e-400"
    notices = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert [(n["column"], n["row"], n["value"]) for n in notices] == [("v", PAST + 1, "1e-400")]


def test_zeros_and_words_or_ids_spelling_tiny_numbers_leave_a_float_column_as_it_was(tmp_path: Path, run_import):
    """A written 0 is a 0; `1e-400` inside a word or an id, or in a text column, decides nothing for a float one."""
    path = tmp_path / "zeros.csv"
    path.write_text(
        'id,note,v\n1,e-mail 7e-4000x,0\n2,550e8400-e29b-41d4,0.00\n3,"see 1e-400",2.5e-300\n4,abc1e-999,-0\n'
    )
    result = run_import(path, on_error="strict")
    assert [c.type for c in result.columns] == ["integer", "string", "float"]
    assert [r["v"] for r in rows_of(result)] == [0.0, 0.0, 2.5e-300, 0.0]


def test_an_underflowing_float_in_a_utf16_export_is_found_too(tmp_path: Path, run_import) -> None:
    """Excel's "Unicode text" (UTF-16LE, tab-separated), which DuckDB reads as it is: searched decoded."""
    path = tmp_path / "unicode.txt"
    path.write_bytes(b"\xff\xfe" + "编号\t金额\n1\t0\n2\t1e-400\n3\t2.5\n".encode("utf-16-le"))
    with pytest.raises(NumberOutOfRange) as caught:
        run_import(path, on_error="strict")
    assert caught.value.errors[0]["row"] == 3


def test_a_lenient_import_keeps_the_column_as_text_with_a_notice(tmp_path: Path, run_import) -> None:
    # Given 1e400 past the sampled rows of a float column
    path = _csv(tmp_path / "big.csv", "1e400", PAST, PAST + 3)
    # When it is imported leniently
    result = run_import(path, on_error="lenient")
    # Then the column is text, every value as written, and a notice says which value made it so
    assert [(c.name, c.type) for c in result.columns] == [("id", "integer"), ("v", "string")]
    rows = rows_of(result)
    assert rows[PAST - 1]["v"] == "1e400"
    assert rows[0]["v"] == "1.5"
    assert result.rows == PAST + 3
    assert result.rejected == 0
    notices = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert [(n["column"], n["row"], n["value"]) for n in notices] == [("v", PAST + 1, "1e400")]


def test_a_written_infinity_or_nan_is_read_as_before(tmp_path: Path, run_import) -> None:
    """A written `inf` is no literal past a float's range: the column stays a float."""
    path = tmp_path / "inf.csv"
    path.write_text("id,v\n1,1.5\n2,inf\n3,-Infinity\n4,nan\n5,1e-300\n")
    result = run_import(path, on_error="strict")
    assert [c.type for c in result.columns] == ["integer", "float"]
    assert [r["v"] for r in rows_of(result)][:3] == [1.5, float("inf"), float("-inf")]
    # DuckDB writes no max for a chunk holding inf: the bounds were read as min 1.5 and no max; now scanned
    assert (result.columns[1].min, result.columns[1].max) == ("-inf", "nan")


def test_the_preview_refuses_or_shows_text_as_the_import_would(tmp_path: Path, limits: ImportLimits) -> None:
    path = _csv(tmp_path / "big.csv", "1e400", 2, 4)
    with pytest.raises(NumberOutOfRange) as caught:
        preview(path, path.name, ImportConfig(on_error="strict"), limits)
    assert caught.value.errors[0]["row"] == 3
    shown = preview(path, path.name, ImportConfig(on_error="lenient"), limits)
    assert [c.type for c in shown.columns] == ["integer", "string"]
    assert shown.rows[1] == [2, "1e400"]
    assert "out_of_range_as_text" in [n["code"] for n in msgspec.to_builtins(shown.notices)]


class _Sink:
    """A data sink as an S3 data root has: one file, already taken by the first COPY."""

    failure: BaseException | None = None

    def url_for(self, local: Any) -> str:
        return str(local)

    def register(self, conn: Any) -> None:
        return None


def test_a_lenient_import_that_must_write_again_hands_back_its_sink(tmp_path: Path, limits: ImportLimits) -> None:
    """The sink streamed the first data file out: the caller (workers.ingest_job) imports again without one."""
    path = _csv(tmp_path / "big.csv", "1e400", 2, 4)
    with pytest.raises(SinkSpent):
        import_file(
            path,
            filename=path.name,
            config=ImportConfig(on_error="lenient"),
            limits=limits,
            out_dir=tmp_path / "out",
            duckdb_settings=DuckDBSettings(memory_limit="256MB", threads=1),
            data_sink=_Sink(),
        )
    assert not (tmp_path / "out" / "data.parquet").exists()
