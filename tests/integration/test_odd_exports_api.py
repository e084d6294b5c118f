"""Odd but real exports through the API: what the preview answers is what the import stores."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_


def _rows(client: TestClient, dataset_id: str) -> list[list[object]]:
    return client.get(f"/api/v1/datasets/{dataset_id}/rows", params={"limit": 100}).json()["rows"]


def test_excels_sep_line_gives_the_delimiter_and_is_no_row(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, b"sep=;\r\nstadt;betrag\r\nBerlin;12\r\nBonn;7\r\n", "export.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert (shown["config"]["delimiter"], shown["config"]["header_row"]) == (";", 2)
    assert [c["name"] for c in shown["columns"]] == ["stadt", "betrag"]
    assert shown["rows"] == [["Berlin", 12], ["Bonn", 7]]
    run = run_import(client, parts, dataset["id"])
    assert run["status"] == "SUCCEEDED", run
    assert _rows(client, dataset["id"]) == shown["rows"]


def test_a_classic_mac_csv_with_a_last_lf_previews_and_imports_alike(client: TestClient, parts: Engine_) -> None:
    content = ("id,city\r" + "".join(f"{i},Caf\u00e9 {i}\r" for i in range(30_000)) + "30000,added\n").encode("cp1252")
    dataset = upload(client, content, "mac.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert shown.status_code == 200, shown.text
    assert shown.json()["rows"][:2] == [[0, "Caf\u00e9 0"], [1, "Caf\u00e9 1"]]
    run = run_import(client, parts, dataset["id"])
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"offset": 29_999, "limit": 5}).json()
    assert (page["rows"], page["total"]) == ([[29_999, "Caf\u00e9 29999"], [30_000, "added"]], 30_001)


def test_a_json_key_twice_is_the_same_422_in_the_preview_and_the_import(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, b'[{"id": 1, "amount": 5},\n {"id": 2, "amount": 7, "amount": 8}]', "orders.json")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert (shown.status_code, shown.json()["code"]) == (422, "duplicate_key")
    assert shown.json()["detail"].startswith("record 2 has the key 'amount' twice in one object;")
    run = run_import(client, parts, dataset["id"])
    assert (run["status"], run["error"]["code"]) == ("FAILED", "duplicate_key")
    assert run["error"]["message"] == shown.json()["detail"]


def test_json_nan_and_infinity_are_null_in_the_preview_and_the_dataset(client: TestClient, parts: Engine_) -> None:
    dataset = upload(
        client, b'[{"id": 1, "ratio": 0.5}, {"id": 2, "ratio": NaN}, {"id": 3, "ratio": Infinity}]', "r.json"
    )
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert shown["rows"] == [[1, 0.5], [2, None], [3, None]]
    warning = "NaN or Infinity (not JSON numbers) imported as NULL: 2 value(s) read, the first on line 1"
    assert warning in shown["warnings"]
    run = run_import(client, parts, dataset["id"])
    assert run["status"] == "SUCCEEDED", run
    assert _rows(client, dataset["id"]) == shown["rows"]


def test_json_integers_past_64_bits_keep_every_digit(client: TestClient, parts: Engine_) -> None:
    content = b'[{"card": 123456789012345678901234567890, "n": 1}, {"card": 18446744073709551615, "n": 2}]'
    dataset = upload(client, content, "cards.json")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert [(c["name"], c["type"]) for c in shown["columns"]] == [("card", "decimal"), ("n", "integer")]
    assert shown["rows"] == [["123456789012345678901234567890", 1], ["18446744073709551615", 2]]
    assert shown["config"]["columns"]["card"] == {"name": "card", "type": "decimal", "scale": 0}
    run = run_import(client, parts, dataset["id"], shown["config"])
    assert run["status"] == "SUCCEEDED", run
    assert _rows(client, dataset["id"]) == shown["rows"]


def test_stock_codes_with_leading_zeros_past_the_sample_are_named_or_kept_never_changed(
    client: TestClient, parts: Engine_
) -> None:
    """20,480 Shanghai codes (600000…) then Shenzhen's 000001: the preview types the column integer, and the import
    stored 1. Now a strict import fails naming the row, column and value; the config the preview returns with the
    column set to string (as the message says) keeps every code."""
    lines = ["code,name", *(f"{600000 + i},s{i}" for i in range(20_480)), "000001,平安银行", "002594,比亚迪"]
    dataset = upload(client, ("\n".join(lines) + "\n").encode(), "stocks.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert shown["config"]["columns"]["code"]["type"] == "integer"
    run = run_import(client, parts, dataset["id"], shown["config"])
    assert (run["status"], run["error"]["code"]) == ("FAILED", "import_failed"), run
    problem = run["progress"]["problems"][0]
    assert (problem["row"], problem["column"], problem["value"]) == (20_482, "code", "000001")
    assert "set the column's type to string" in problem["message"]
    config = shown["config"]
    config["columns"]["code"]["type"] = "string"
    assert run_import(client, parts, dataset["id"], config)["status"] == "SUCCEEDED"
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"offset": 20_479, "limit": 3}).json()
    assert [row[0] for row in page["rows"]] == ["620479", "000001", "002594"]


def test_postal_codes_formatted_000000_preview_and_import_as_excel_shows_them(
    client: TestClient, parts: Engine_, tmp_path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in [["邮编", "城市"], [100080, "北京"], [10010, "天津"], [200000, "上海"]]:
        book.active.append(row)
    for (cell,) in book.active.iter_rows(min_row=2, max_col=1):
        cell.number_format = "000000"
    book.save(tmp_path / "codes.xlsx")
    dataset = upload(client, (tmp_path / "codes.xlsx").read_bytes(), "codes.xlsx")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert [c["type"] for c in shown["columns"]] == ["string", "string"]
    assert shown["rows"] == [["100080", "北京"], ["010010", "天津"], ["200000", "上海"]]
    run = run_import(client, parts, dataset["id"])
    assert run["status"] == "SUCCEEDED", run
    assert _rows(client, dataset["id"]) == shown["rows"]
