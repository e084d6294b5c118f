"""A WeChat Pay bill through the API: the preview's suggestions applied one after another (title block and
summary lines, then the amount column's type) import exactly its rows, amounts as numbers, no tab padding."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from tests.bills import BANK_ROWS, WECHAT_ROWS, WECHAT_TITLE, bank_statement, wechat_bill
from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_


def test_a_wechat_bill_imports_its_rows_with_the_suggested_configs(
    client: TestClient, parts: Engine_, tmp_path: Path
) -> None:
    dataset = upload(client, wechat_bill(tmp_path / "bill.csv", footer=True).read_bytes(), "微信支付账单.csv")
    preview = f"/api/v1/datasets/{dataset['id']}/preview"
    first = client.post(preview, json={}).json()
    assert [(s["field"], s["value"]) for s in first["suggestions"]] == [
        ("header_row", len(WECHAT_TITLE) + 1),
        ("skip_footer", 3),
    ]
    second = client.post(preview, json=first["suggested_config"]).json()
    assert [s["field"] for s in second["suggestions"]] == ["columns"]
    config = second["suggested_config"]
    assert config["columns"] == {"金额(元)": {"type": "decimal", "scale": 2}}

    run = run_import(client, parts, dataset["id"], config)
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 10}).json()
    assert page["total"] == len(WECHAT_ROWS)
    names = [c["name"] for c in page["columns"]]
    amounts = [row[names.index("金额(元)")] for row in page["rows"]]
    assert [float(a) for a in amounts] == [35.5, 1200.0, 0.0]
    assert [row[names.index("交易单号")] for row in page["rows"]] == [4200001, 4200002, 4200003]  # the tab padding gone


def test_a_strict_import_of_a_bill_with_a_cell_that_is_no_amount_names_its_row_and_column(
    client: TestClient, parts: Engine_
) -> None:
    """The run's error said only DuckDB's "Could not convert string" and listed no problem to show."""
    bill = '日期,金额\n2026-12-04,"¥1,234.56"\n2026-12-05,"¥1.2.3"\n'.encode()
    dataset = upload(client, bill, "bill.csv")
    run = run_import(client, parts, dataset["id"], {"columns": {"金额": {"type": "decimal", "scale": 2}}})
    assert (run["status"], run["error"]["code"]) == ("FAILED", "import_failed"), run
    assert "(row 3, column 金额)" in run["error"]["message"], run["error"]
    problem = run["progress"]["problems"][0]
    assert (problem["row"], problem["column"], problem["value"]) == (3, "金额", "¥1.2.3")


def test_a_statement_ending_in_a_totals_row_without_a_line_end_imports_its_rows_with_the_suggested_config(
    client: TestClient, parts: Engine_, tmp_path: Path
) -> None:
    """合计,,"5,000.00",150.00,, as the last line had the table's width: nothing was suggested, and it was imported as
    a row (its label turning 交易日期 to text)."""
    statement = bank_statement(tmp_path / "bank.csv", totals="合计：", end="").read_bytes()  # noqa: RUF001
    dataset = upload(client, statement, "对账单.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert [(s["field"], s["value"]) for s in shown["suggestions"]] == [("header_row", 4), ("skip_footer", 1)]
    run = run_import(client, parts, dataset["id"], shown["suggested_config"])
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 10}).json()
    assert page["total"] == len(BANK_ROWS)
    assert [row[0] for row in page["rows"]] == [row[0] for row in BANK_ROWS]


def test_a_date_column_written_several_ways_imports_with_the_suggested_list_of_formats(
    client: TestClient, parts: Engine_
) -> None:
    """One `format` per column: 2026/01/06 and 20260109 beside 2026年1月5日 were rejected rows. The preview suggests
    every format the column uses, the API takes the list, and every row imports; decimals show as written."""
    export = "日期,金额\n2026年1月5日,2340\n2026/01/06,12.5\n2026-01-07,1\n2026.1.8,2\n20260109,3\n".encode()
    dataset = upload(client, export, "销售.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    formats = ["%Y年%m月%d日", "%Y/%m/%d", "%Y-%m-%d", "%Y.%m.%d", "%Y%m%d"]
    assert shown["suggested_config"]["columns"] == {"日期": {"type": "date", "format": formats}}
    config = {"columns": {"日期": {"type": "date", "format": formats}, "金额": {"type": "decimal"}}}
    previewed = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json=config).json()
    assert [row[0] for row in previewed["rows"]] == [f"2026-01-0{day}" for day in range(5, 10)]
    assert [row[1] for row in previewed["rows"]] == ["2340", "12.5", "1", "2", "3"]
    run = run_import(client, parts, dataset["id"], config)
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 10}).json()
    assert page["rows"] == previewed["rows"]
