"""Bad query parameters are 400 problems, never 422 (meant for bodies) nor 500 (found by the OpenAPI fuzz test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient

from app.domain.pagination import encode_cursor, list_scope, scoped
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_


def test_a_malformed_id_whose_name_starts_with_data_is_a_bad_parameter(client: TestClient) -> None:
    response = client.get("/api/v1/runs", params={"dataset_id": "not-a-uuid"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_parameter"
    assert response.json()["errors"][0]["field"] == "dataset_id"


@pytest.mark.parametrize("path", ["/api/v1/metrics/slowest-pipelines", "/api/v1/metrics/summary"])
def test_a_window_ending_in_the_first_day_of_year_one_is_refused(client: TestClient, path: str) -> None:
    response = client.get(path, params={"to": "0001-01-01T01:01:01Z"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_window"


@pytest.mark.parametrize(
    "where",
    ["/rows?version={big}", "/download?version={big}", "/versions/{big}/rejects", "/diff?from={big}", "/diff?to={big}"],
)
def test_a_version_past_a_postgres_integer_is_a_bad_parameter(client: TestClient, pipeline: dict, where: str) -> None:
    """It reached the `integer` column and answered 500 (NumericValueOutOfRange)."""
    dataset = upload(client, SALES)
    base = f"/api/v1/pipelines/{pipeline['id']}" if where.startswith("/diff") else f"/api/v1/datasets/{dataset['id']}"
    response = client.get(base + where.format(big=2**31))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01T00:00:00+14:00", "0001-01-01T12:00:00Z"), ("9999-12-31T00:00:00Z", "9999-12-31T23:00:00-14:00")],
)
def test_a_window_outside_the_years_utc_can_hold_is_refused(client: TestClient, start: str, end: str) -> None:
    """Year 0 or 10000 once in UTC: it answered 500 (OverflowError)."""
    response = client.get("/api/v1/metrics/summary", params={"from": start, "to": end})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_window"


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/api/v1/runs", "created_before", "0.5"),
        ("/api/v1/runs", "created_after", "1700000000"),
        ("/api/v1/audit", "since", "-1"),
        ("/api/v1/audit/export", "until", "1e9"),
        ("/api/v1/metrics/summary", "to", "-23429213"),
        ("/api/v1/metrics/slowest-pipelines", "from", "0"),
        ("/api/v1/runs", "created_before", "2026-13-01T00:00:00Z"),
    ],
)
def test_a_date_time_parameter_takes_only_a_date_time(client: TestClient, path: str, name: str, value: str) -> None:
    """A bare number was read as Unix seconds, though the document says ISO 8601 (schemathesis)."""
    response = client.get(path, params={name: value})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_parameter"
    assert [e["field"] for e in response.json()["errors"]] == [name]


@pytest.mark.parametrize("value", ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+08:00"])
def test_a_date_time_parameter_still_takes_iso_8601(client: TestClient, value: str) -> None:
    assert client.get("/api/v1/runs", params={"created_before": value}).status_code == 200
    assert client.get("/api/v1/metrics/summary", params={"to": value}).status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/runs", "created_after"),
        ("/api/v1/runs", "created_before"),
        ("/api/v1/audit", "since"),
        ("/api/v1/audit/export", "until"),
        ("/api/v1/metrics/summary", "from"),
        ("/api/v1/metrics/timeseries", "to"),
    ],
)
def test_a_date_time_parameter_without_an_offset_is_refused(client: TestClient, path: str, name: str) -> None:
    """`2026-01-02T03:04:05` names no instant: it was read in some zone, and the filter moved by hours unsaid."""
    response = client.get(path, params={name: "2026-01-02T03:04:05"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["code"], [e["field"] for e in problem["errors"]]) == ("date_time_without_offset", [name])
    assert "offset" in problem["errors"][0]["message"]


@pytest.mark.parametrize("listing", ["audit", "occurrences"])
def test_a_cursor_past_a_bigint_row_id_is_a_bad_cursor(client: TestClient, pipeline: dict, listing: str) -> None:
    """These lists page by a bigint id carried in the cursor's UUID: a UUID past 2**63 - 1 reached the column and
    answered 500 (NumericValueOutOfRange)."""
    deployment = client.post(
        "/api/v1/deployments",
        json={"name": "hourly", "pipeline": pipeline["name"], "schedule": {"kind": "interval", "seconds": 3600}},
    ).json()
    path = "/api/v1/audit" if listing == "audit" else f"/api/v1/deployments/{deployment['id']}/occurrences"
    scope = (
        list_scope("listAuditEntries", {}, [])
        if listing == "audit"
        else list_scope("listDeploymentOccurrences", {"deployment_id": deployment["id"]}, [])
    )
    cursor = scoped(encode_cursor(datetime(2026, 1, 2, tzinfo=UTC), uuid.UUID(int=2**63)), scope)
    response = client.get(path, params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_cursor"
    kept = scoped(encode_cursor(datetime(2026, 1, 2, tzinfo=UTC), uuid.UUID(int=2**63 - 1)), scope)
    assert client.get(path, params={"cursor": kept}).status_code == 200


def test_a_rows_offset_past_a_bigint_is_a_bad_offset_not_a_bad_filter(client: TestClient, parts: Engine_) -> None:
    """It reached DuckDB's OFFSET and came back as "a filter value does not fit its column", at the `filter` field,
    of a request that had no filter."""
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])
    response = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"offset": 2**63})
    assert response.status_code == 400, response.text
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("invalid_parameter", "offset")
    last = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"offset": 2**63 - 1})
    assert (last.status_code, last.json()["rows"], last.json()["next_offset"]) == (200, [], None)
