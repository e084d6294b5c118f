"""Numbers no double holds: `1e400` became +infinity (shown as null) and `1e-400` became 0.0, silently, in a JSON
number. One rule now refuses both, naming the row, the column and the value (a CSV float column's: see
test_csv_range)."""

from __future__ import annotations

import json
import mmap
import zipfile
from pathlib import Path
from typing import Any

import msgspec
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, number_range, preview
from app.ingest.errors import ImportFailed
from app.ingest.json_numbers import NumberScan, scan
from app.ingest.number_range import NumberOutOfRange, may_hold, may_underflow, out_of_range
from tests.unit.ingest.conftest import rows_of

CASES = [
    ("over.ndjson", '{"id": 1, "v": 1.5}\n{"id": 2, "v": 1e400}\n', 2, "v", "infinity"),
    ("under.ndjson", '{"id": 1, "v": 1.5}\n{"id": 2, "v": 2.5, "w": -1E-400}\n', 2, "w", "0"),
    ("nested.json", '{"data": [{"a": {"b": 1.5}}, {"a": {"b": -2e999}}]}', 2, "a.b", "-infinity"),
]


@pytest.mark.parametrize(("name", "text", "row", "column", "became"), CASES)
def test_a_number_no_double_holds_fails_preview_and_import_naming_it(
    tmp_path: Path, limits: ImportLimits, run_import, name: str, text: str, row: int, column: str, became: str
):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(NumberOutOfRange) as shown:
        preview(path, name, ImportConfig(), limits)
    with pytest.raises(NumberOutOfRange) as imported:
        run_import(path)
    for caught in (shown, imported):
        assert caught.value.code == "number_out_of_range"
        assert caught.value.status == 422
        assert caught.value.errors[0]["row"] == row
        assert caught.value.errors[0]["column"] == column
        assert f"would have been read as {became}:" in caught.value.detail


def test_such_text_in_a_string_or_a_text_column_and_written_inf_are_read_as_before(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """A UUID such as 550e8400-… looks like 550e8400 to the byte check: only number columns are refused."""
    json_path = tmp_path / "ids.json"
    json_path.write_text('[{"id": "550e8400-e29b", "v": 1.5}, {"id": "1e400", "v": 2.5}]')
    for path in (json_path,):
        shown = preview(path, path.name, ImportConfig(), limits)
        assert [c.type for c in shown.columns] == ["string", "float"]
        assert [c.type for c in run_import(path).columns] == ["string", "float"]


def test_the_rule_on_literals():
    beyond = ["1e400", "-1.8e308", "1e-400", "-0.1e-330", "0." + "0" * 400 + "1", "9" * 400 + ".5"]
    assert all(out_of_range(literal) for literal in beyond)
    assert not any(out_of_range(literal) for literal in ["1.7e308", "5e-324", "0e-999", "0.0", "abc"])
    assert all(may_hold(data) for data in [b'{"v": 12.5e+400}', b"a,0." + b"0" * 400 + b"1\n"])
    assert not may_hold(b'{"v": 1.5e300, "w": 12e-99, "x": "e400"}')
    assert all(may_underflow(data) for data in [b"a,1e-400\n", b"-0.5E-999,", b'{"v": 3e-330}'])
    assert not any(may_underflow(data) for data in [b"5e-324", b"0e-999", b"x1e-400", b"1e-400x", b'"1e-400"'])


def test_a_text_column_spelling_such_numbers_decides_nothing_for_the_file(tmp_path: Path, run_import):
    """A JSON string is text whatever it spells: a column of hex ids (`"36660e5985"` reads as 36660e5985, past a
    double's range), of `"1e500"` or of 19-digit card numbers sent the whole file down the slow path (a copy with
    the long numbers quoted, every number column read as text and checked). Only a JSON number decides now."""
    assert not may_hold(b'{"id": "36660e5985", "v": 1.5}')
    assert not may_hold(b'{"id": "1e500", "w": "-2E999"}')
    assert may_hold(b'{"id": "x", "v": 1e500}')
    assert may_hold(b'[1e500,"x"]')
    path = tmp_path / "ids.ndjson"
    rows = [{"id": "36660e5985", "code": "1e500", "card": "6222021234567890123", "v": n + 0.5} for n in range(3)]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    assert scan(str(path)) == NumberScan(non_finite=False, long_numbers=False)
    result = run_import(path)
    assert [c.type for c in result.columns] == ["string", "string", "string", "float"]
    assert result.warnings == []


def test_a_lenient_json_import_keeps_such_a_column_as_text(tmp_path: Path, limits: ImportLimits, run_import):
    """The rule a lenient CSV import follows (test_csv_range): the column as text, with a notice naming the value."""
    path = tmp_path / "over.ndjson"
    path.write_text('{"id": 1, "v": 1.5}\n{"id": 2, "v": 1e400}\n{"id": 3, "v": -2}\n')
    result = run_import(path, on_error="lenient")
    assert [(c.name, c.type) for c in result.columns] == [("id", "integer"), ("v", "string")]
    assert [r["v"] for r in rows_of(result)] == ["1.5", "1e400", "-2"]
    notices = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert [(n["column"], n["row"], n["value"]) for n in notices] == [("v", 2, "1e400")]
    shown = preview(path, path.name, ImportConfig(on_error="lenient"), limits)
    assert [c.type for c in shown.columns] == ["integer", "string"]
    assert "out_of_range_as_text" in [n["code"] for n in msgspec.to_builtins(shown.notices)]


@pytest.mark.parametrize(("written", "became"), [("1e400", "infinity"), ("-1e-400", "0")])
def test_a_workbook_cell_no_float_holds_is_a_cell_that_does_not_fit(
    tmp_path: Path, limits: ImportLimits, run_import, written: str, became: str
):
    """A text cell `1e400` in a column typed float read as infinity (shown as null), `1e-400` as 0, silently; a
    number cell written 1e400 (no Excel writes one; a generator may) too. Now each is a cell that does not fit its
    column: a strict import lists it, a lenient one rejects its row, as a text cell `¥1.2.3` there."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in (["a"], [1.5], [written], [2.5]):
        book.active.append(row)
    path = tmp_path / "text.xlsx"
    book.save(path)
    typed = {"a": ColumnSpec(type="float")}
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns=typed)
    assert caught.value.errors[0]["row"] == 3
    assert f"the number {written} is beyond what a float holds" in caught.value.errors[0]["message"]
    assert f"read as {became}" in caught.value.errors[0]["message"]
    lenient = run_import(path, columns=typed, on_error="lenient")
    assert [r["a"] for r in rows_of(lenient)] == [1.5, 2.5]
    assert lenient.rejected == 1
    shown = preview(path, path.name, ImportConfig(columns=typed), limits)
    assert any("row 3" in w and "beyond what a float holds" in w for w in shown.warnings)


def test_a_workbook_number_cell_past_a_floats_range_is_not_read_as_infinity(tmp_path: Path, run_import):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in (["a"], [1.5], [7.25], [2.5]):
        book.active.append(row)
    made = tmp_path / "made.xlsx"
    book.save(made)
    with zipfile.ZipFile(made) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"<v>7.25</v>", b"<v>1e400</v>")
    path = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(path, "w") as written:
        for name, data in parts.items():
            written.writestr(name, data)
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert caught.value.errors[0]["row"] == 3
    assert "read as infinity" in caught.value.errors[0]["message"]


def test_a_file_is_searched_a_window_at_a_time_and_finds_a_literal_across_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mapping the whole file made an import's peak RSS count every page of its CSV (1.46 GB for 1 GiB): each map
    now holds one window and the overlap, and a literal cut by a window's end is still found."""
    window = mmap.ALLOCATIONGRANULARITY
    lengths: list[int] = []
    real = mmap.mmap

    def counting(fileno: int, length: int, **kwargs: Any) -> mmap.mmap:
        lengths.append(length)
        return real(fileno, length, **kwargs)

    monkeypatch.setattr(number_range.mmap, "mmap", counting)
    for cut in range(1, 8):
        path = tmp_path / f"cut-{cut}.csv"
        path.write_bytes(b"1\n" * ((window - cut) // 2) + b"\n" * ((window - cut) % 2) + b"1e-400\n" + b"2\n" * 5000)
        assert number_range.file_may_underflow(str(path), chunk_bytes=window), cut
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"1.5,0\n" * 10_000)
    lengths.clear()
    assert not number_range.file_may_underflow(str(plain), chunk_bytes=window)
    assert len(lengths) > 1
    assert max(lengths) <= window + number_range.TAIL_BYTES
