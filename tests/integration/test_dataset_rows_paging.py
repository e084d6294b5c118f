"""GET /datasets/{id}/rows over an imported version: filtered pages, deep pages and sorted pages hold the rows,
totals and order that counting and scanning everything gives (the totals are remembered per version and filter,
and deep unsorted pages are read in two steps; neither may change an answer)."""

from __future__ import annotations

from litestar.testing import TestClient

from app.domain.row_totals import TOTALS
from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_

ROWS = 3_000
ALL = [(i, f"c{i % 7}", (i * 7919) % 1000 / 10.0) for i in range(ROWS)]
CSV = ("id,category,amount\n" + "".join(f"{i},{c},{a}\n" for i, c, a in ALL)).encode()


def test_filtered_pages_hold_the_rows_totals_and_order_of_a_full_scan(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, CSV, filename="events.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    TOTALS.clear()
    url = f"/api/v1/datasets/{dataset['id']}/rows"

    def page(**params: object) -> dict:
        response = client.get(url, params={"columns": "id,category,amount", **params})
        assert response.status_code == 200, response.text
        return response.json()

    c3 = [list(r) for r in ALL if r[1] == "c3"]
    for offset, limit in [(0, 50), (0, 50), (200, 50), (len(c3) - 7, 50), (len(c3) + 10, 5)]:
        got = page(filter="category:eq:c3", offset=offset, limit=limit)
        assert (got["rows"], got["total"]) == (c3[offset : offset + limit], len(c3)), offset

    both = [list(r) for r in ALL if r[1] == "c3" and r[2] < 30]
    got = page(filter=["category:eq:c3", "amount:lt:30"], offset=20, limit=10)
    assert (got["rows"], got["total"]) == (both[20:30], len(both))

    high = sorted((list(r) for r in ALL if r[2] > 90), key=lambda r: (-r[2], r[0]))
    got = page(filter="amount:gt:90", order_by="-amount,id", offset=40, limit=20)
    assert (got["rows"], got["total"]) == (high[40:60], len(high))

    got = page(offset=2_990, limit=20)  # no filter, a short last page
    assert (got["rows"], got["total"]) == ([list(r) for r in ALL[2_990:]], ROWS)


def test_a_filter_value_that_is_not_of_its_column_s_type_is_refused(client: TestClient, parts: Engine_) -> None:
    """The value was TRY_CAST to the column's type: `id:eq:1.5` became id = 2 (the cast rounds) and `id:gt:abc`
    NULL, so a typo answered an empty page as if nothing matched."""
    dataset = upload(client, CSV, filename="events.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    url = f"/api/v1/datasets/{dataset['id']}/rows"
    for bad in ["id:eq:1.5", "id:gt:1.5", "id:gt:abc", "id:eq:", "amount:lt:lots"]:
        response = client.get(url, params={"filter": bad})
        assert response.status_code == 400, (bad, response.text)
        assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("invalid_parameter", "filter")
    assert client.get(url, params={"filter": "id:ge:2998"}).json()["total"] == 2
    assert client.get(url, params={"filter": "amount:eq:1.5"}).json()["total"] == sum(1 for r in ALL if r[2] == 1.5)
