"""Times written with a UTC offset in its several forms (+08:00, +0800, +08, a space before it, Z) import as the same
instant in UTC from every format, said by a notice; a time without an offset among them is a rejected row, never
read as UTC or local. Before: a CSV column of several forms stayed text, and typed datetime it dropped every offset
(03:04:05+08:00 and 19:04:05Z eight hours apart); a JSON column was stored as TIMESTAMPTZ (and its preview failed
wanting pytz), or typed datetime dropped its offsets; a workbook column mixed local times with instants."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.errors import ImportFailed
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write_xlsx
from tests.workbook_files import ods_workbook, xls_workbook

#: One instant, 2024-01-01 19:04:05 UTC, as Chinese systems and APIs write it.
FORMS = [
    "2024-01-02T03:04:05+08:00",
    "2024-01-02 03:04:05+0800",
    "2024-01-01T19:04:05Z",
    "2024-01-02 03:04:05 +08",
    "2024-01-02T03:04:05+08",
]
INSTANT = dt.datetime(2024, 1, 1, 19, 4, 5)
NAIVE = "2024-01-02 03:04:05"
TYPED = {"下单时间": ColumnSpec(type="datetime")}


def _csv(path: Path, times: list[str]) -> Path:
    path.write_text("单号,下单时间\n" + "".join(f"{i},{t}\n" for i, t in enumerate(times, 1)), encoding="utf-8")
    return path


def _json(path: Path, times: list[str]) -> Path:
    path.write_text(json.dumps([{"单号": i, "下单时间": t} for i, t in enumerate(times, 1)], ensure_ascii=False))
    return path


def _xlsx(path: Path, times: list[object]) -> Path:
    return write_xlsx(path, {"订单": [["单号", "下单时间"], *([i, t] for i, t in enumerate(times, 1))]})


def _ods(path: Path, rows: list[list[object]]) -> Path:
    return ods_workbook(path, {"订单": rows})


def _xls(path: Path, rows: list[list[object]]) -> Path:
    return xls_workbook(path, rows, "订单")


WRITERS = {"csv": _csv, "json": _json, "xlsx": _xlsx}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_offset_form_imports_as_the_same_instant_in_utc(tmp_path: Path, run_import, kind: str) -> None:
    path = WRITERS[kind](tmp_path / f"orders.{kind}", FORMS)
    result = run_import(path, columns=TYPED, on_error="strict")
    assert [r["下单时间"] for r in rows_of(result)] == [INSTANT] * len(FORMS)
    assert pq.read_schema(result.data_path).field("下单时间").type.tz is None  # as every reader stores them
    assert any("UTC offset" in w for w in result.warnings)


@pytest.mark.parametrize("kind", ["xlsx", "ods", "xls"])
def test_a_workbook_column_of_offset_times_says_it_was_imported_in_utc(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str
) -> None:
    """A workbook's times with a UTC offset were stored as their instants in UTC with nothing said, where a CSV's
    import and preview say so (utc_offset, with an example)."""
    rows = [["单号", "下单时间"], *([i, t] for i, t in enumerate(FORMS, 1))]
    writers = {"xlsx": lambda p, r: write_xlsx(p, {"订单": r}), "ods": _ods, "xls": _xls}
    path = writers[kind](tmp_path / f"orders.{kind}", rows)
    result = run_import(path, columns=TYPED, on_error="strict")
    assert [r["下单时间"] for r in rows_of(result)] == [INSTANT] * len(FORMS)
    said = [n for n in msgspec.to_builtins(result.notices) if n["code"] == "utc_offset"]
    assert [(n["column"], n["example"]) for n in said] == [("下单时间", FORMS[0])]
    shown = preview(path, path.name, ImportConfig(columns=TYPED), limits)
    assert [w for w in shown.warnings if "UTC offset" in w] == [w for w in result.warnings if "UTC offset" in w]
    local = run_import(WRITERS["xlsx"](tmp_path / "local.xlsx", [NAIVE]), columns=TYPED)
    assert not [n for n in msgspec.to_builtins(local.notices) if n["code"] == "utc_offset"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_preview_suggests_datetime_for_a_text_column_of_offset_forms(
    tmp_path: Path, limits: ImportLimits, kind: str, run_import
) -> None:
    """DuckDB's sniffer left a column of several forms as text, with nothing suggested."""
    path = WRITERS[kind](tmp_path / f"orders.{kind}", FORMS)
    shown = preview(path, path.name, ImportConfig(), limits)
    assert shown.suggested_config is not None
    columns = shown.suggested_config.columns or {}
    assert columns["下单时间"].type == "datetime"
    result = run_import(path, **{"columns": columns, "on_error": "strict"})
    assert [r["下单时间"] for r in rows_of(result)] == [INSTANT] * len(FORMS)


def test_a_json_column_of_offsets_is_previewed_and_imported_as_instants_in_utc(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    """DuckDB read it as TIMESTAMPTZ: stored so (not as every other reader stores times) and the preview failed."""
    path = _json(tmp_path / "orders.json", FORMS[:3])
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [row[1] for row in shown.rows] == [INSTANT.isoformat()] * 3
    result = run_import(path)
    assert [r["下单时间"] for r in rows_of(result)] == [INSTANT] * 3
    assert pq.read_schema(result.data_path).field("下单时间").type.tz is None


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_time_without_an_offset_among_them_is_rejected_not_read_as_utc(tmp_path: Path, run_import, kind: str) -> None:
    path = WRITERS[kind](tmp_path / f"orders.{kind}", [*FORMS[:2], NAIVE, FORMS[2]])
    lenient = run_import(path, columns=TYPED, on_error="lenient")
    assert [r["单号"] for r in rows_of(lenient)] == [1, 2, 4]
    assert [r["下单时间"] for r in rows_of(lenient)] == [INSTANT] * 3
    assert lenient.rejects_path is not None
    [reject] = pq.read_table(lenient.rejects_path).to_pylist()
    assert (reject["column"], reject["value"]) == ("下单时间", NAIVE)
    assert "has no UTC offset" in reject["message"]
    with pytest.raises(ImportFailed) as failed:
        run_import(path, columns=TYPED, on_error="strict")
    assert [(p["column"], p["value"]) for p in failed.value.errors] == [("下单时间", NAIVE)]
    assert "has no UTC offset" in failed.value.errors[0]["message"]


def test_a_workbook_time_with_an_offset_among_local_datetime_cells_is_rejected(tmp_path: Path, run_import) -> None:
    path = _xlsx(tmp_path / "orders.xlsx", [dt.datetime(2024, 1, 2, 3, 4, 5), FORMS[0]])
    result = run_import(path, columns=TYPED, on_error="lenient")
    assert [r["下单时间"] for r in rows_of(result)] == [dt.datetime(2024, 1, 2, 3, 4, 5)]
    assert result.rejects_path is not None
    [reject] = pq.read_table(result.rejects_path).to_pylist()
    assert "has a UTC offset, where the column's other times have none" in reject["message"]


@pytest.mark.parametrize("on_error", ["lenient", "strict"])
def test_a_csv_time_with_an_offset_past_the_sampled_rows_is_a_bad_value(
    tmp_path: Path, run_import, on_error: str
) -> None:
    """DuckDB's sniffer saw 20,480 local times and read the column with its ISO cast, which dropped an offset further
    down: 03:04:05+08:00 and 19:04:05Z stored as 03:04:05 and 19:04:05 beside local times, silently."""
    path = _csv(
        tmp_path / "orders.csv", [NAIVE] * 20_500 + ["2024-01-02 03:04:05+08:00", "2024-01-01T19:04:05Z", NAIVE]
    )
    if on_error == "strict":
        with pytest.raises(ImportFailed, match="has a UTC offset"):
            run_import(path, on_error=on_error)
        return
    result = run_import(path, on_error=on_error)
    rows = rows_of(result)
    assert len(rows) == 20_501
    assert rows[-1]["单号"] == 20_503
    assert {r["下单时间"] for r in rows} == {dt.datetime(2024, 1, 2, 3, 4, 5)}
    assert any("2 row(s) rejected" in w for w in result.warnings)
