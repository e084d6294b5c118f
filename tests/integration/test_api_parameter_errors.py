"""Bad query parameters are 400 problems, never 422 (meant for bodies) nor 500 (found by the OpenAPI fuzz test)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


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
