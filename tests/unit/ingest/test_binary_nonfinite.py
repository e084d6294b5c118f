"""An xls/xlsb number cell holding +inf, -inf or NaN follows the CSV and xlsx rule for numbers no double holds:
number_out_of_range in a strict import and preview, the column as text with a notice in a lenient one. Before: an
infinity was a generic bad row ("cannot read inf as float", import_failed) and a NaN was imported as NaN."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.number_range import NumberOutOfRange
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of
from tests.workbook_files import xls_workbook, xlsb_workbook

MAKERS: dict[str, Callable[..., Path]] = {"xls": xls_workbook, "xlsb": xlsb_workbook}
CASES = [
    (kind, value, text)
    for kind in MAKERS
    for value, text in ((math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "NaN"))
]


def _book(tmp_path: Path, kind: str, value: float) -> Path:
    return MAKERS[kind](
        tmp_path / f"book.{kind}", [["名称", "金额", "件数"], ["a", 1.5, 2], ["b", value, 3], ["c", 2.5, 4]]
    )


@pytest.mark.parametrize(("kind", "value", "text"), CASES)
def test_a_strict_import_and_preview_refuse_a_stored_infinity_or_nan(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str, value: float, text: str
) -> None:
    path = _book(tmp_path, kind, value)
    for attempt in (lambda: preview(path, path.name, ImportConfig(), limits), lambda: run_import(path)):
        with pytest.raises(NumberOutOfRange) as caught:
            attempt()
        assert caught.value.code == "number_out_of_range"
        assert caught.value.errors[0]["row"] == 3
        assert caught.value.errors[0]["column"] == "金额"
        assert text in caught.value.errors[0]["message"]


@pytest.mark.parametrize(("kind", "value", "text"), CASES)
def test_a_lenient_import_and_preview_read_the_column_as_text(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str, value: float, text: str
) -> None:
    path = _book(tmp_path, kind, value)
    result = run_import(path, on_error="lenient")
    assert [r["金额"] for r in rows_of(result)] == ["1.5", text, "2.5"]
    assert [r["件数"] for r in rows_of(result)] == [2, 3, 4]
    notices = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "out_of_range_as_text"]
    assert [(n["column"], n["row"], n["value"]) for n in notices] == [("金额", 3, text)]
    shown = preview(path, path.name, ImportConfig(on_error="lenient"), limits)
    assert [row[1] for row in shown.rows] == ["1.5", text, "2.5"]


@pytest.mark.parametrize("kind", MAKERS)
def test_a_workbook_of_finite_numbers_is_read_as_before(tmp_path: Path, run_import, kind: str) -> None:
    result = run_import(_book(tmp_path, kind, 1e308), on_error="strict")
    assert [r["金额"] for r in rows_of(result)] == [1.5, 1e308, 2.5]
