"""A totals row (合计, 总计) ending an xlsx ledger whose amounts are text cells (1,000.00, 800.00, 1.25万, ¥5,000.00) is
suggested as skip_footer, as one of number cells is; with the suggestion, preview and import read the same types
and say the same. Before: only number cells counted as a total, so the row was no footer, and its label turned the
date column to text with a mixes-types warning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from app.ingest import ImportLimits, subtotals
from app.ingest.config import ImportConfig
from app.ingest.models import ColumnStats
from app.ingest.notices import note
from app.ingest.notices.columns import SubtotalRows
from app.ingest.preview import preview
from app.ingest.shape import SUBTOTAL_LABELS, label_key
from app.ingest.subtotals import _label_pattern
from tests.unit.ingest.conftest import applied, rows_of, write_xlsx


def _ledger(path: Path, label: str) -> Path:
    rows: list[list[object]] = [["日期", "摘要", "金额", "数量"]]
    rows += [[dt.datetime(2024, 1, day), "收款", f"{day * 1000:,.2f}", day] for day in range(1, 21)]
    rows[3][2] = "1.25万"  # 12,500 where 3,000.00 was
    rows[5][2] = "¥5,000.00"
    rows[7][2] = "800.00"  # 800 where 7,000.00 was: no separator
    total = sum(day * 1000 for day in range(1, 21)) - 3000 + 12_500 - 7000 + 800
    rows.append([label, None, f"{total:,.2f}", 210])
    return write_xlsx(path, {"账": rows})


@pytest.mark.parametrize("label", ["合计", "总计"])
def test_a_totals_row_of_text_amounts_is_suggested_and_left_out(
    tmp_path: Path, limits: ImportLimits, run_import, label: str
) -> None:
    path = _ledger(tmp_path / "ledger.xlsx", label)
    shown = preview(path, path.name, ImportConfig(), limits)
    assert ("skip_footer", 1) in [(s.field, s.value) for s in shown.suggestions]
    assert shown.suggested_config is not None
    again = preview(path, path.name, shown.suggested_config, limits)
    result = run_import(
        path, **{f: getattr(shown.suggested_config, f) for f in ("skip_footer", "columns", "thousands_separator")}
    )
    assert [(c.name, c.type) for c in result.columns] == [(c.name, c.type) for c in again.columns]
    assert result.columns[0].type == "date"
    assert len(rows_of(result)) == 20
    said = [w for w in result.warnings if "mixes types" in w or "totals row" in w]
    assert said == [w for w in again.warnings if "mixes types" in w or "totals row" in w] == []


#: An ERP summary: a 小计 row after each region, and a 合计 row adding the stores up once (not the 小计 rows too).
SUBTOTALLED = [
    ["2024年第一季度销售汇总表", None, None, None],
    ["地区", "门店", "销量", "金额"],
    ["华东", "上海店", 10, 1200.5],
    ["华东", "杭州店", 5, 600.0],
    ["小计", None, 15, 1800.5],
    ["华北", "北京店", 7, 900.0],
    ["小计", None, 7, 900.0],
    ["合计", None, 22, 2700.5],
]


def test_a_totals_row_below_subtotal_rows_is_suggested(tmp_path: Path, limits: ImportLimits) -> None:
    """Its numbers are the column sums but for the 小计 rows: it was no footer, kept as data with no word."""
    path = write_xlsx(tmp_path / "汇总.xlsx", {"汇总": SUBTOTALLED}, merge="A1:D1")
    shown = preview(path, path.name, ImportConfig(), limits)
    assert ("skip_footer", 1) in [(s.field, s.value) for s in shown.suggestions]
    assert any("row 8 ('合计')" in s.reason for s in shown.suggestions)
    wrong = [*SUBTOTALLED[:-1], ["合计", None, 23, 2700.5]]  # a sum of neither: data
    path = write_xlsx(tmp_path / "错.xlsx", {"汇总": wrong}, merge="A1:D1")
    assert "skip_footer" not in [s.field for s in preview(path, path.name, ImportConfig(), limits).suggestions]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_subtotal_rows_read_as_data_are_named(tmp_path: Path, limits: ImportLimits, run_import, kind: str) -> None:
    """A 小计 row after each group was read as data without a word: a sum over 金额 counted each group twice."""
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "汇总.xlsx", {"汇总": SUBTOTALLED}, merge="A1:D1")
    else:
        path = tmp_path / "汇总.csv"
        rows = [[("" if c is None else str(c)) for c in row] for row in SUBTOTALLED[1:]]
        rows[5][0] = "小 计\uff1a"  # spaced and with a full-width colon, as some reports write it
        path.write_bytes("".join(",".join(row) + "\n" for row in rows).encode("gb18030"))
    config = applied(path, limits)
    shown = preview(path, path.name, config, limits)
    said = [n for n in shown.notices if isinstance(n, SubtotalRows)]
    assert [(n.column, n.label, n.count) for n in said] == [("地区", "小计", 2)]
    given = {f: getattr(config, f) for f in ("skip_footer", "header_row", "encoding") if getattr(config, f)}
    result = run_import(path, **given)
    assert [(n.column, n.count) for n in result.notices if isinstance(n, SubtotalRows)] == [("地区", 2)]
    assert len(rows_of(result)) == 5  # read as data all the same; the 合计 row left out


def test_a_table_without_subtotal_rows_says_nothing_of_them(tmp_path: Path, limits: ImportLimits, run_import) -> None:
    path = tmp_path / "明细.csv"
    path.write_text("地区,门店,金额\n华东,上海店,1\n华北,小计店,2\n", encoding="utf-8")
    assert not [n for n in preview(path, path.name, ImportConfig(), limits).notices if isinstance(n, SubtotalRows)]
    assert not [n for n in run_import(path).notices if isinstance(n, SubtotalRows)]


@pytest.mark.parametrize(
    "text",
    ["小计", " 小 计\uff1a ", "小計:", "Sub Total:", "SUBTOTAL", "subtotal\t", "小计x", "合计", "sub", "total"],
)
def test_the_import_finds_a_subtotal_label_as_the_preview_does(text: str) -> None:
    """The import's SQL matches the labels by one pattern, not by building the preview's key for every value."""
    found = duckdb.execute("SELECT regexp_full_match(?, ?)", [text, _label_pattern()]).fetchone()
    assert found == (label_key(text) in SUBTOTAL_LABELS,)


def test_the_import_counts_every_subtotal_row_once_its_first_rows_hold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table's start is looked through first (most tables have no subtotal rows: one look at the start each);
    one that has them is read whole, so the count is every row's."""
    monkeypatch.setattr(subtotals, "FIRST_ROWS", 10)
    stats = [ColumnStats(name="dept", type="string", nulls=0)]

    def named(labels: dict[int, str]) -> list[str]:
        data = tmp_path / "data.parquet"
        values = ", ".join(f"('{labels.get(row, 'sales')}')" for row in range(100))
        duckdb.execute(f"COPY (SELECT * FROM (VALUES {values}) t(dept)) TO '{data}' (FORMAT parquet)")
        return subtotals.written(duckdb.connect(), str(data), stats)

    assert named({3: "小计", 50: "小 计", 99: "小计"}) == [note(SubtotalRows(column="dept", label="小计", count=3))]
    assert named({}) == []
    assert named({50: "小计"}) == []  # none in the first rows: the rest is not read
