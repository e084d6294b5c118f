"""The preview API states its warnings and suggestion reasons as codes with typed parameters (app.ingest.notices),
beside the English text it always gave, and the OpenAPI document states each code's parameters."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.dataset_support import upload


def test_a_preview_answers_its_warnings_and_reasons_as_codes_with_parameters(client: TestClient) -> None:
    bill = "交易明细\n账号,6222\n日期,摘要,金额,余额\n" + "".join(f"2026-01-0{i},x,{i}.5,{i}\n" for i in range(1, 6))
    dataset = upload(client, bill.encode("gb18030"), filename="bill.csv")
    response = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert response.status_code == 200, response.text
    shown = response.json()
    assert [n["message"] for n in shown["notices"]] == shown["warnings"]
    assert {"code": "encoding_guessed", "encoding": "gb18030", "message": "encoding guessed as gb18030"} in shown[
        "notices"
    ]
    reasons = {s["field"]: s for s in shown["suggestions"]}
    header = reasons["header_row"]["notice"]
    assert header["code"] == "title_block"
    assert (header["last"], header["columns"], header["titles"]) == (2, 4, ["交易明细", "账号,6222"])
    assert header["message"] == reasons["header_row"]["reason"]


def test_the_openapi_document_states_every_codes_parameters(client: TestClient) -> None:
    schemas = client.get("/api/docs/openapi.json").json()["components"]["schemas"]
    preview = schemas["Preview"]["properties"]
    codes = {ref["$ref"].rsplit("/", 1)[1] for ref in preview["notices"]["items"]["oneOf"]}
    assert {"TotalsRow", "RepeatedHeaderRows", "EncodingGuessed", "NullPlaceholders", "Other"} <= codes
    totals = schemas["TotalsRow"]
    assert totals["properties"]["code"]["const"] == "totals_row"
    assert set(totals["required"]) == {"code", "row", "label", "message"}
    assert totals["properties"]["row"]["type"] == "integer"
    nulls = schemas["NullPlaceholders"]["properties"]["columns"]["items"]["$ref"]
    assert set(schemas[nulls.rsplit("/", 1)[1]]["required"]) == {"column", "tokens", "values"}
