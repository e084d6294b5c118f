"""Exports joined end to end (`cat`): the header line again before each part, in the sniffer's sample and past it."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ImportConfig, ImportLimits, preview, repeated_header
from app.ingest.errors import ImportFailed


def test_exports_joined_together_name_their_repeated_header_lines(tmp_path: Path, limits: ImportLimits, run_import):
    # given three exports joined end to end, each starting with its header line
    part = "订单号,金额\n" + "".join(f"{i},{i}.5\n" for i in range(10))
    path = tmp_path / "joined.csv"
    path.write_text(part * 3, encoding="utf-8")
    # when it is previewed and imported
    shown = preview(path, "joined.csv", ImportConfig(), limits)
    result = run_import(path)
    # then both say which data rows are the header again, rather than reading them as data without a word
    for warnings in (shown.warnings, result.warnings):
        assert any("2 data row(s) repeat the header line (data rows 11, 22" in w for w in warnings), warnings


def _joined_exports(path: Path, header: str, row: str, parts: int = 3, bom: str = "") -> Path:
    """`parts` exports of 21,000 rows joined end to end (`cat`): the header line again past the sniffer's sample,
    each starting with `bom`."""
    part = bom + header + "\n" + "".join(row.format(i=i) + "\n" for i in range(21_000))
    path.write_text(part * parts, encoding="utf-8")
    return path


@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["utf-8", "utf-8-bom"])
def test_header_lines_repeated_past_the_sample_are_named_by_the_import(tmp_path: Path, run_import, bom: str):
    """Only the first 20,480 rows were looked at: header lines further down were imported as data unnamed."""
    path = _joined_exports(tmp_path / "joined.csv", "订单号,备注", "A{i},note {i}", bom=bom)
    result = run_import(path)
    assert result.rows == 3 * 21_000 + 2  # read as the file is: nothing is left out unasked
    assert any(
        "2 line(s) repeat the header line" in w and "lines 21002, 42003" in w and "remove the repeated header" in w
        for w in result.warnings
    ), result.warnings


@pytest.mark.parametrize("on_error", ["strict", "lenient"])
def test_a_header_line_repeated_past_the_sample_in_a_typed_column_says_so(tmp_path: Path, run_import, on_error: str):
    """The import failed with `Could not convert string "订单号" to 'BIGINT'` (or rejected the line) without
    saying that the line is the header again."""
    path = _joined_exports(tmp_path / "joined.csv", "订单号,金额", "{i},{i}.5", parts=2)
    if on_error == "strict":
        with pytest.raises(ImportFailed) as caught:
            run_import(path)
        assert (caught.value.errors[0]["row"], caught.value.code) == (21_002, "import_failed")
        assert "repeats the header line" in caught.value.detail
        assert "remove the repeated header lines" in caught.value.detail
        return
    result = run_import(path, on_error="lenient")
    assert (result.rows, result.rejected) == (42_000, 1)
    assert any("1 line(s) repeat the header line (lines 21002)" in w for w in result.warnings), result.warnings
    assert set(pq.read_table(result.rejects_path).column("message").to_pylist()) == {repeated_header.REJECTED_LINE}


def test_a_repeated_header_line_past_the_sample_is_named_by_its_line_after_blank_and_rejected_lines(
    tmp_path: Path, run_import
):
    """Its line was counted from the rows written: two blank lines and a rejected row above it named it three lines
    too high up, unlike the rejects of the same import."""
    head = "订单号,备注\n" + "".join(f"A{i},note {i}\n" for i in range(21_000))
    path = tmp_path / "joined.csv"
    path.write_text(head + "\n\nA,b,a cell too many\n订单号,备注\nA,b\n", encoding="utf-8")
    result = run_import(path, on_error="lenient")
    assert [r["row"] for r in pq.read_table(result.rejects_path).to_pylist()] == [21_004]
    assert any("1 line(s) repeat the header line (lines 21005)" in w for w in result.warnings), result.warnings
