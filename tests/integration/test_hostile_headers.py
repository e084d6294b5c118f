"""Header values an outside fuzzer sent, each once a 500: now the documented 4xx with a stable code."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


@pytest.mark.timeout(60)  # before the fix the stream opened, and waited for a run no worker takes
@pytest.mark.parametrize(
    "value",
    ["9" * 5000, "9223372036854775808"],  # past the 4300 digits int() converts; one past a BIGINT line number
    ids=["5000-digits", "past-bigint"],
)
def test_a_last_event_id_that_is_no_line_number_is_400(client: TestClient, pipeline: dict, value: str) -> None:
    run = client.post("/api/v1/runs", json={"pipeline": pipeline["name"]})
    assert run.status_code == 201, run.text
    response = client.get(f"/api/v1/runs/{run.json()['id']}/logs/stream", headers={"Last-Event-ID": value})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_last_event_id"


@pytest.mark.parametrize(
    "content_range",
    [
        f"bytes 0-{'9' * 5000}/10",
        f"bytes {'9' * 5000}-1/10",
        f"bytes 0-9/{'9' * 5000}",
        "bytes 0-9/99999999999999999999",
    ],
    ids=["end", "start", "total", "total-past-bigint"],
)
def test_a_content_range_with_numbers_no_upload_has_is_416(client: TestClient, content_range: str) -> None:
    upload = client.post("/api/v1/uploads", json={"filename": "a.csv", "size": 10})
    assert upload.status_code == 201, upload.text
    response = client.put(
        f"/api/v1/uploads/{upload.json()['id']}", content=b"0123456789", headers={"Content-Range": content_range}
    )
    assert response.status_code == 416, response.text
    assert response.json()["code"] == "range_not_satisfiable"


def test_leading_zeros_are_still_a_number(client: TestClient) -> None:
    upload = client.post("/api/v1/uploads", json={"filename": "a.csv", "size": 10})
    response = client.put(
        f"/api/v1/uploads/{upload.json()['id']}",
        content=b"0123456789",
        headers={"Content-Range": f"bytes {'0' * 30}-{'0' * 30}9/10"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["received"] == 10
