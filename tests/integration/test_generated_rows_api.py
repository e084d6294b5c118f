"""Pages of rows of a generated dataset whose columns hold instants with a zone (DuckDB's TIMESTAMPTZ)."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.dataset_support import generated
from tests.integration.engine_parts import Engine_

SQL = (
    "SELECT 1 AS id, TIMESTAMPTZ '2026-03-01 08:30:00+08' AS loaded_at, [TIMESTAMPTZ '2026-03-02 00:00:00+00'] AS "
    "seen, {'at': TIMESTAMPTZ '2026-03-03 12:00:00+00'} AS last"
)


def test_a_page_shows_an_instant_with_a_zone_as_its_utc_time(client: TestClient, parts: Engine_) -> None:
    """DuckDB hands Python a TIMESTAMPTZ only through pytz, which is not installed: a pipeline that wrote `now()`
    made every page of its dataset a 500, and a filter on the column a 400 whatever its value."""
    dataset_id = generated(client, parts, SQL)
    page = client.get(f"/api/v1/datasets/{dataset_id}/rows")
    assert page.status_code == 200, page.text
    assert page.json()["rows"] == [[1, "2026-03-01T00:30:00", ["2026-03-02T00:00:00"], {"at": "2026-03-03T12:00:00"}]]
    found = client.get(
        f"/api/v1/datasets/{dataset_id}/rows",
        params={"filter": "loaded_at:ge:2026-03-01 00:00:00", "order_by": "-loaded_at", "columns": "loaded_at"},
    )
    assert (found.status_code, found.json()["rows"]) == (200, [["2026-03-01T00:30:00"]])
