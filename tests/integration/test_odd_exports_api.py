"""Odd but real exports through the API: what the preview answers is what the import stores."""

from __future__ import annotations

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
