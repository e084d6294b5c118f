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
