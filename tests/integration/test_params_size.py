"""Run and deployment parameters are bounded (MAX_PARAMS_BYTES as JSON): every list page echoes them, so 20 runs
with 9 MB of params each made one GET /runs 180 MB and raised the API's memory by 480 MB."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from app.domain.run_params import MAX_PARAMS_BYTES
from tests.integration.dataset_support import SALES, upload

TOO_LARGE = {"x": "a" * MAX_PARAMS_BYTES}
#: Just within the bound: {"x":"…"} is 8 bytes more than the string.
LARGEST = {"x": "a" * (MAX_PARAMS_BYTES - 8)}


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text[:300]
    problem = response.json()
    assert problem["code"] == "params_too_large"
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/runs", {"pipeline": "noop", "params": TOO_LARGE}, "params"),
        (
            "post",
            "/api/v1/runs/batch",
            {"runs": [{"pipeline": "noop"}, {"pipeline": "noop", "params": TOO_LARGE}]},
            "runs[1].params",
        ),
        ("post", "/api/v1/pipelines/noop/runs", {"params": TOO_LARGE}, "params"),
        (
            "post",
            "/api/v1/deployments",
            {"name": "big", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 0 * * *"}, "params": TOO_LARGE},
            "params",
        ),
    ],
    ids=["run", "batch", "pipeline-run", "deployment"],
)
def test_parameters_past_the_bound_are_refused_and_nothing_is_created(
    client: TestClient, pipeline: dict, method: str, path: str, body: dict, field: str
) -> None:
    refused(client.request(method, path, json=body), field)
    assert client.get("/api/v1/runs").json()["items"] == []
    assert client.get("/api/v1/deployments").json()["items"] == []


def test_a_deployment_change_and_a_trigger_past_the_bound_are_refused(client: TestClient, pipeline: dict) -> None:
    created = client.post(
        "/api/v1/deployments",
        json={"name": "small", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 0 * * *"}},
    )
    assert created.status_code == 201, created.text
    deployment = f"/api/v1/deployments/{created.json()['id']}"
    refused(client.patch(deployment, json={"params": TOO_LARGE}), "params")
    refused(client.post(f"{deployment}/trigger", json={"params": TOO_LARGE}), "params")


def test_parameters_within_the_bound_and_deeply_nested_ones_are_accepted(client: TestClient, pipeline: dict) -> None:
    largest = client.post("/api/v1/runs", json={"pipeline": "noop", "params": LARGEST})
    assert largest.status_code == 201, largest.text[:300]
    # 900 deep, written out: the JSON decoder takes that much, and the size check encodes it again.
    deep = b'{"pipeline": "noop", "params": {"deep": ' + b"[" * 900 + b"1" + b"]" * 900 + b"}}"
    response = client.post("/api/v1/runs", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text[:300]


@pytest.mark.parametrize("action", ["imports", "preview"])
def test_an_import_configuration_past_the_bound_is_refused(client: TestClient, action: str) -> None:
    """An import stores its configuration as its run's params: 200,000 null_values made every run list page
    1.7 MB, and previewing 950,000 of them took the API 19 s of CPU and 120 MB of memory."""
    dataset = upload(client, SALES)
    config = {"null_values": [str(i) for i in range(MAX_PARAMS_BYTES // 4)]}
    refused(client.post(f"/api/v1/datasets/{dataset['id']}/{action}", json=config), "config")
    assert [r["kind"] for r in client.get("/api/v1/runs").json()["items"]] == []
    assert client.post(f"/api/v1/datasets/{dataset['id']}/{action}", json={"null_values": ["-"]}).status_code < 300
