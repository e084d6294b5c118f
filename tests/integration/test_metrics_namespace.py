"""Dashboard metrics narrowed to one namespace: only its runs count; a hidden or bad name is refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain.members import NewNamespace, create_namespace
from tests.integration.metrics_support import T0, WINDOW, add_run

DASHBOARD = [
    "/api/v1/metrics/summary",
    "/api/v1/metrics/timeseries",
    "/api/v1/metrics/breakdown",
    "/api/v1/metrics/slowest-pipelines",
    "/api/v1/metrics/failing-deployments",
    "/api/v1/metrics/recent-failures",
]


@pytest.fixture
def two_namespaces(engine: Engine, client: TestClient) -> uuid.UUID:
    """Two runs in `default` (one failed), one failed run moved into a namespace called `other`; returns its id."""
    with Session(engine) as session, session.begin():
        create_namespace(session, NewNamespace(name="other"))
    add_run(engine, at=T0 + timedelta(minutes=5), status="SUCCEEDED", duration=10, rows=100)
    add_run(engine, at=T0 + timedelta(minutes=6), status="FAILED", duration=20)
    moved = uuid.uuid4()
    add_run(engine, at=T0 + timedelta(minutes=7), status="FAILED", duration=30, rows=7)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE runs SET id = :moved, namespace_id = (SELECT id FROM namespaces WHERE name = 'other') "
                "WHERE created_at = :at"
            ),
            {"moved": moved, "at": T0 + timedelta(minutes=7)},
        )
    return moved


def test_the_summary_counts_only_the_chosen_namespace(client: TestClient, two_namespaces: uuid.UUID) -> None:
    every = client.get("/api/v1/metrics/summary", params=WINDOW).json()["metrics"]
    default = client.get("/api/v1/metrics/summary", params={**WINDOW, "namespace": "default"}).json()["metrics"]
    other = client.get("/api/v1/metrics/summary", params={**WINDOW, "namespace": "other"}).json()["metrics"]
    assert (every["runs"], every["runs_failed"], every["rows_processed"]) == (3, 2, 107)
    assert (default["runs"], default["runs_failed"], default["rows_processed"]) == (2, 1, 100)
    assert (other["runs"], other["runs_failed"], other["rows_processed"]) == (1, 1, 7)


def test_the_trend_breakdown_and_recent_failures_follow_the_namespace(
    client: TestClient, two_namespaces: uuid.UUID
) -> None:
    query = {**WINDOW, "namespace": "other"}
    series = client.get("/api/v1/metrics/timeseries", params={**query, "bucket": "1h"}).json()["series"]
    assert [value for _, value in series[0]["points"]] == [1, 0, 0]
    by_status = client.get("/api/v1/metrics/breakdown", params={**query, "by": "status"}).json()["items"]
    assert {(i["key"], i["value"]) for i in by_status} == {("FAILED", 1)}
    failures = client.get("/api/v1/metrics/recent-failures", params=query).json()
    assert [f["id"] for f in failures] == [str(two_namespaces)]
    assert len(client.get("/api/v1/metrics/recent-failures", params=WINDOW).json()) == 2


@pytest.mark.parametrize("path", DASHBOARD)
def test_a_missing_namespace_is_404_and_a_malformed_one_400(client: TestClient, path: str) -> None:
    missing = client.get(path, params={"namespace": "nosuch"})
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "namespace_not_found"
    bad = client.get(path, params={"namespace": "Not A Name!"})
    assert bad.status_code == 400, bad.text
    assert bad.json()["errors"][0]["field"] == "namespace"
    assert client.get(path, params={"namespace": "default"}).status_code == 200
