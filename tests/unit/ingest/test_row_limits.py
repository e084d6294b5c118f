"""A CSV import's `limit` (and a `range`'s last row) ends at the file's row N: a bad row among rows 1..N is rejected,
and row N+1 is never imported in its place. Before: `read_csv ... LIMIT N` counted only the rows it returned, so a
row DuckDB rejected (x in an integer column) or the SELECT left out (an amount that does not convert) let the next
row past the end in."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest.config import ColumnSpec, ImportConfig, ImportLimits
from app.ingest.preview import PREVIEW_PROBLEMS, preview
from tests.unit.ingest.conftest import rows_of

BOUNDS = [{"limit": 3}, {"range": "A1:C4"}]
#: Amounts rows 3, 4 and 6 of the file hold that do not convert.
AMOUNTS = ["¥1.00", "¥x", "¥y", "¥4.00", "¥z", "¥6.00"]


@pytest.mark.parametrize("bound", BOUNDS)
@pytest.mark.parametrize(
    ("cells", "column"),
    [(["10", "x", "30", "40"], {"数量": ColumnSpec(type="integer")}), (["¥1.00", "¥abc", "¥3.00", "¥4.00"], {})],
)
def test_a_rejected_row_lets_no_row_past_the_end_in(
    tmp_path: Path, run_import, bound: dict, cells: list[str], column: dict
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(
        "单号,数量,金额\n" + "".join(f"{i},{c},{c}\n" for i, c in enumerate(cells, 1)) + "5,50,¥5.00\n",
        encoding="utf-8",
    )
    typed = column or {"金额": ColumnSpec(type="decimal")}
    result = run_import(path, on_error="lenient", columns=typed, **bound)
    assert [r["单号"] for r in rows_of(result)] == [1, 3]
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert [r["row"] for r in rejects] == [3]


def test_a_limit_counts_a_quoted_cell_with_line_breaks_as_one_row(tmp_path: Path, run_import) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('单号,备注\n1,"第一行\n第二行"\n2,b\n3,c\n', encoding="utf-8")
    result = run_import(path, on_error="strict", limit=2)
    assert [r["单号"] for r in rows_of(result)] == [1, 2]


@pytest.mark.parametrize("kind", ["array", "ndjson"])
def test_a_rejected_json_record_lets_no_record_past_the_limit_in(tmp_path: Path, run_import, kind: str) -> None:
    records = [{"单号": 1, "数量": 10}, {"单号": 2, "数量": "x"}, {"单号": 3, "数量": 30}, {"单号": 4, "数量": 40}]
    path = tmp_path / f"orders.{'json' if kind == 'array' else 'ndjson'}"
    text = json.dumps(records) if kind == "array" else "".join(json.dumps(r) + "\n" for r in records)
    path.write_text(text, encoding="utf-8")
    result = run_import(path, on_error="lenient", limit=3, columns={"数量": ColumnSpec(type="integer")})
    assert [r["单号"] for r in rows_of(result)] == [1, 3]
    assert [r["row"] for r in pq.read_table(result.rejects_path).to_pylist()] == [2]


def test_a_limit_counts_no_blank_line(tmp_path: Path, run_import) -> None:
    """read_csv skips a blank line: it is no row of the limit either."""
    path = tmp_path / "gaps.csv"
    path.write_text("单号,备注\n1,a\n\n2,b\n3,c\n", encoding="utf-8")
    assert [r["单号"] for r in rows_of(run_import(path, limit=2))] == [1, 2]


@pytest.mark.parametrize("bound", [{"limit": 4}, {"range": "A1:C5"}])
@pytest.mark.parametrize(
    ("cells", "column"),
    [
        (["10", "x", "y", "40", "z", "60"], {"数量": ColumnSpec(type="integer")}),
        (AMOUNTS, {"金额": ColumnSpec(type="decimal")}),
    ],
)
def test_the_preview_lists_no_problem_past_the_end(
    tmp_path: Path, limits: ImportLimits, bound: dict, cells: list[str], column: dict
) -> None:
    """A preview with limit=4 listed a problem on row 6, past the end, and showed row 6: it read its head with
    `LIMIT 4` on the rows returned, where the import cuts the file after its 4th row (rows 2-5 of the file)."""
    path = tmp_path / "ledger.csv"
    path.write_text("单号,数量,金额\n" + "".join(f"{i},{c},{c}\n" for i, c in enumerate(cells, 1)), encoding="utf-8")
    shown = preview(path, path.name, ImportConfig(columns=column, on_error="lenient", **bound), limits)
    assert [row[0] for row in shown.rows] == [1, 4]
    assert [w.split(",")[0] for w in shown.warnings if w.startswith("row ")] == ["row 3", "row 4"]


@pytest.mark.parametrize("bound", BOUNDS)
def test_the_preview_shows_the_rows_and_problems_the_import_has(
    tmp_path: Path, limits: ImportLimits, run_import, bound: dict
) -> None:
    """A bad row among the first N: the preview showed row N+1 in its place, which the import does not read."""
    path = tmp_path / "ledger.csv"
    cells = ["10", "x", "30", "40", "y"]
    path.write_text("单号,数量,金额\n" + "".join(f"{i},{c},{c}\n" for i, c in enumerate(cells, 1)), encoding="utf-8")
    typed = {"数量": ColumnSpec(type="integer")}
    shown = preview(path, path.name, ImportConfig(columns=typed, on_error="lenient", **bound), limits)
    result = run_import(path, columns=typed, on_error="lenient", **bound)
    assert [row[0] for row in shown.rows] == [r["单号"] for r in rows_of(result)] == [1, 3]
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert [w.split(",")[0] for w in shown.warnings if w.startswith("row ")] == [f"row {r['row']}" for r in rejects]


@pytest.mark.parametrize("shown", [1, 2, 3, 4, 5])
@pytest.mark.parametrize(
    ("cells", "column"),
    [
        (["10", "x", "30", "40", "y", "60"], {"数量": ColumnSpec(type="integer")}),
        (["¥1.00", "¥x", "¥3.00", "¥4.00", "¥y", "¥6.00"], {"金额": ColumnSpec(type="decimal")}),
    ],
)
def test_the_preview_lists_the_problems_of_the_rows_it_covers(
    tmp_path: Path, limits: ImportLimits, run_import, shown: int, cells: list[str], column: dict
) -> None:
    """rows=2 showed ids 1 and 3 and listed no problem, though the read left out row 3 of the file (id 2): its
    SELECT stopped at 2 rows, and DuckDB stores its rejects only when a read runs to its end. The preview lists a
    lenient import's rejects up to the row of the last row it shows, and none past it (a bad amount on row 6 was
    listed for rows=1)."""
    path = tmp_path / "ledger.csv"
    path.write_text("单号,数量,金额\n" + "".join(f"{i},{c},{c}\n" for i, c in enumerate(cells, 1)), encoding="utf-8")
    shown_rows = preview(path, path.name, ImportConfig(columns=column, on_error="lenient"), limits, rows=shown)
    result = run_import(path, columns=column, on_error="lenient")
    ids = [r["单号"] for r in rows_of(result)]
    assert [row[0] for row in shown_rows.rows] == ids[:shown]
    last = ids[shown - 1] + 1 if shown < len(ids) else None  # the file's row of the last row shown (the header is 1)
    rejects = [r["row"] for r in pq.read_table(result.rejects_path).to_pylist() if last is None or r["row"] <= last]
    assert [w.split(",")[0] for w in shown_rows.warnings if w.startswith("row ")] == [f"row {r}" for r in rejects]


@pytest.mark.parametrize("bad", [range(2, 30), range(3, 40, 2), [5, 9, 10, 11, 12, 13, 14, 15, 16, 17, 30]])
@pytest.mark.parametrize("shown", [1, 3, 6])
def test_the_preview_covers_its_rows_past_many_bad_ones(
    tmp_path: Path, limits: ImportLimits, run_import, bad: range, shown: int
) -> None:
    """The rows the preview covers are found by reading more rows until they give the rows shown (the rows added
    growing): runs of bad rows, even many, end where the import's rows say."""
    path = tmp_path / "ledger.csv"
    path.write_text("单号,数量\n" + "".join(f"{i},{'x' if i in bad else i}\n" for i in range(1, 41)), encoding="utf-8")
    typed = {"数量": ColumnSpec(type="integer")}
    shown_rows = preview(path, path.name, ImportConfig(columns=typed, on_error="lenient"), limits, rows=shown)
    result = run_import(path, columns=typed, on_error="lenient")
    ids = [r["单号"] for r in rows_of(result)]
    assert [row[0] for row in shown_rows.rows] == ids[:shown]
    rejects = [r["row"] for r in pq.read_table(result.rejects_path).to_pylist() if r["row"] <= ids[shown - 1] + 1]
    listed = [f"row {r}" for r in rejects][:PREVIEW_PROBLEMS]
    assert [w.split(",")[0] for w in shown_rows.warnings if w.startswith("row ")] == listed
