"""A messy export through the API: the preview's suggested config, applied, imports exactly the data rows;
the rejects of a lenient import are downloaded from the version."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from litestar.testing import TestClient

from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_
from tests.messy_workbook import DATA_SHEET, expected_rows, write_messy_workbook


def test_the_suggested_config_of_a_messy_export_imports_its_data_rows(
    client: TestClient, parts: Engine_, tmp_path: Path
) -> None:
    content = write_messy_workbook(tmp_path / "export.xlsx").read_bytes()
    dataset = upload(client, content, "销售导出.xlsx")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert shown["config"]["sheet"] == DATA_SHEET
    assert [(s["name"], s["rows"], s["columns"]) for s in shown["sheets"]] == [("说明", 1, 1), (DATA_SHEET, 12, 5)]
    assert {s["field"]: s["value"] for s in shown["suggestions"]} == {
        "sheet": DATA_SHEET,
        "header_row": 3,
        "skip_footer": 1,
        "null_values": ["N/A"],
    }
    assert all(s["reason"] for s in shown["suggestions"])
    suggested = shown["suggested_config"]

    run = run_import(client, parts, dataset["id"], suggested)
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 100}).json()
    assert [c["type"] for c in page["columns"]] == ["date", "string", "integer", "float", "float"]
    expected = [[r["日期"].isoformat(), r["产品"], r["数量"], r["金额"], r["含税金额"]] for r in expected_rows()]
    assert page["rows"] == expected
    assert page["total"] == len(expected)


def test_the_rejects_of_a_lenient_import_are_downloaded(client: TestClient, parts: Engine_, tmp_path: Path) -> None:
    content = write_messy_workbook(tmp_path / "export.xlsx").read_bytes()
    dataset = upload(client, content, "export.xlsx")
    config = {"header_row": 3, "skip_footer": 1, "on_error": "lenient", "columns": {"数量": {"type": "integer"}}}
    run = run_import(client, parts, dataset["id"], config)
    assert run["status"] == "SUCCEEDED", run
    base = f"/api/v1/datasets/{dataset['id']}/versions/1/rejects"

    as_csv = client.get(base)
    assert as_csv.status_code == 200
    assert list(csv.reader(io.StringIO(as_csv.text))) == [
        ["row", "column", "message", "value"],
        ["6", "数量", "cannot read 'N/A' as integer", "N/A"],
    ]
    lines = client.get(base, params={"format": "json"}).text.splitlines()
    assert [json.loads(line)["row"] for line in lines] == [6]
    as_parquet = client.get(base, params={"format": "parquet"})
    assert (as_parquet.status_code, as_parquet.content[:4]) == (200, b"PAR1")


def test_a_version_without_rejects_gives_an_empty_file(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, b"a,b\n1,2\n")
    run_import(client, parts, dataset["id"])
    response = client.get(f"/api/v1/datasets/{dataset['id']}/versions/1/rejects")
    assert (response.status_code, response.text) == (200, "row,column,message,value\n")
    assert client.get(f"/api/v1/datasets/{dataset['id']}/versions/1/rejects", params={"format": "json"}).text == ""
    as_parquet = client.get(f"/api/v1/datasets/{dataset['id']}/versions/1/rejects", params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(as_parquet.content)).column_names == ["row", "column", "message", "value"]
    missing = client.get(f"/api/v1/datasets/{dataset['id']}/versions/7/rejects")
    assert (missing.status_code, missing.json()["code"]) == (404, "version_not_found")


def test_a_csv_with_blank_lines_names_its_bad_rows_alike_in_the_preview_and_the_rejects(
    client: TestClient, parts: Engine_
) -> None:
    """Blank lines above and between bad rows: a bad count (DuckDB's check) and a bad amount (the SELECT's) are
    named by their rows as a spreadsheet shows them, in the preview's notices and in the version's rejects."""
    text = "单号,数量,金额\n\n1,10,¥1.00\n\n2,x,¥2.00\n3,30,oops\n\n\n4,40,¥4.00\n"
    dataset = upload(client, text.encode(), "gaps.csv")
    config = {"on_error": "lenient", "columns": {"数量": {"type": "integer"}, "金额": {"type": "decimal", "scale": 2}}}
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json=config).json()
    named = [(n["row"], n["column"]) for n in shown["notices"] if n["code"] == "row_problem"]
    assert named == [(5, "数量"), (6, "金额")]
    run = run_import(client, parts, dataset["id"], config)
    assert run["status"] == "SUCCEEDED", run
    lines = client.get(f"/api/v1/datasets/{dataset['id']}/versions/1/rejects", params={"format": "json"}).text
    assert [(json.loads(line)["row"], json.loads(line)["column"]) for line in lines.splitlines()] == named
