"""Plain Chinese exports through the API (upload, preview, import): short GBK text that other East Asian
encodings also decode, and files whose line ends change part way."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_

#: A customer list as a Chinese ERP saves it: GBK, few distinct characters, every pair also valid EUC-KR.
CUSTOMERS = "订单编号,客户名称,金额\n" + "".join(f"{i},客户{i},{i}.5\n" for i in range(60))


def test_a_short_gbk_customer_list_is_read_as_chinese_not_korean(client: TestClient, parts: Engine_) -> None:
    # given a GBK file whose repeated characters charset-normalizer alone takes for Korean (cp949)
    dataset = upload(client, CUSTOMERS.encode("gbk"), "客户.csv")
    # when it is previewed and imported
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    run = run_import(client, parts, dataset["id"], {"on_error": "strict"})
    # then the names are the Chinese ones written
    assert shown["encoding"] == "gb18030"
    assert [c["name"] for c in shown["columns"]] == ["订单编号", "客户名称", "金额"]
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 2}).json()
    assert page["rows"] == [[0, "客户0", 0.5], [1, "客户1", 1.5]]


def test_a_csv_whose_lines_change_from_crlf_to_lf_previews_and_imports_every_row(
    client: TestClient, parts: Engine_
) -> None:
    # given an Excel export (CRLF, a cell with a line break in it) with rows added by a script writing LF
    head = '编号,备注\r\n1,"第一行\n第二行"\r\n2,乙\r\n'
    dataset = upload(client, (head + "".join(f"{i},行{i}\n" for i in range(3, 40))).encode(), "合并.csv")
    # when it is previewed and imported
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    run = run_import(client, parts, dataset["id"], {"on_error": "strict"})
    # then every row is read, the cell keeps its line break, and both say the line ends were mixed
    assert shown.status_code == 200, shown.json()
    assert len(shown.json()["rows"]) == 39
    assert {"code": "line_ends", "ends": "mixed"}.items() <= shown.json()["notices"][0].items()
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 100}).json()
    assert page["total"] == 39
    assert page["rows"][:2] == [[1, "第一行\n第二行"], [2, "乙"]]


def test_an_excel_csv_with_line_breaks_in_its_cells_is_not_said_to_mix_line_ends(client: TestClient) -> None:
    # given CRLF rows whose quoted cells hold LF line breaks (Alt+Enter in Excel)
    text = '编号,备注\r\n1,"第一行\n第二行"\r\n2,"甲\n乙"\r\n'
    dataset = upload(client, text.encode(), "备注.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    # then the preview reads two rows and warns of nothing
    assert shown["rows"] == [[1, "第一行\n第二行"], [2, "甲\n乙"]]
    assert shown["notices"] == []


def test_a_three_column_statement_below_its_title_block_is_found(client: TestClient, parts: Engine_) -> None:
    # given a bank statement of three columns under a title and an account line of two fields
    rows = "".join(f'2026-01-{i:02d},转账{i},"{i * 1000:,}.00"\n' for i in range(1, 20))
    text = "交易明细\n账号,6222021234567890\n日期,摘要,金额\n" + rows
    dataset = upload(client, text.encode("gbk"), "对账单.csv")
    # when it is previewed
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    # then the header on line 3 is suggested, and the suggested config imports every row
    assert {s["field"]: s["value"] for s in shown["suggestions"]}["header_row"] == 3
    run = run_import(client, parts, dataset["id"], {**shown["suggested_config"], "on_error": "strict"})
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 1}).json()
    assert [c["name"] for c in page["columns"]] == ["日期", "摘要", "金额"]
    assert page["total"] == 19


def test_a_gb18030_file_with_four_byte_characters_is_read_as_gb18030(client: TestClient) -> None:
    # given GB18030 text holding characters only its four-byte forms encode (a rare name's 𠀀, CJK extension B),
    # whose bytes 0x95 and 0x82 look like cp1252's punctuation
    text = "姓名,地址,金额\n" + "".join(f"张{i}𠀀,北京市朝阳区€{i}号,{i}\n" for i in range(40))
    dataset = upload(client, text.encode("gb18030"), "名册.csv")
    # when it is previewed
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    # then it is read as GB18030, every character as written
    assert shown["encoding"] == "gb18030"
    assert shown["rows"][0] == ["张0𠀀", "北京市朝阳区€0号", 0]
