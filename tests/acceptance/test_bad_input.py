"""Bad requests over HTTP: a 4xx problem+json with a stable code, and nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.acceptance.harness import MAX_BATCH_RUNS, ConveyorSystem

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["detail"]
    assert body["trace_id"]
    return body


def _totals(system: ConveyorSystem) -> tuple[int, int]:
    """How many runs and pipelines exist."""
    pipelines, cursor = 0, None
    while True:
        response = system.http.get("/api/v1/pipelines", params={"limit": 500, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pipelines += len(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if not cursor:
            return len(system.list_runs()), pipelines


@pytest.fixture
def pipeline(system: ConveyorSystem) -> dict[str, Any]:
    return system.create_pipeline([{"type": "log", "message": "valid"}])


@pytest.mark.acceptance
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        pytest.param(b'{"pipeline": ', 400, "malformed_json", None, id="malformed-json"),
        pytest.param(b"[1, 2", 400, "malformed_json", None, id="truncated-array"),
        pytest.param({"pipeline": 42}, 422, "validation_failed", "pipeline", id="pipeline-not-a-string"),
        pytest.param(
            {"pipeline": "{p}", "max_retries": "three"},
            422,
            "validation_failed",
            "max_retries",
            id="max-retries-not-an-int",
        ),
        pytest.param(
            {"pipeline": "{p}", "max_retries": -1}, 422, "validation_failed", "max_retries", id="negative-retries"
        ),
        pytest.param(
            {"pipeline": "{p}", "priority": 1000}, 422, "validation_failed", "priority", id="priority-too-high"
        ),
        pytest.param(
            {"pipeline": "{p}", "params": [1, 2]}, 422, "validation_failed", "params", id="params-not-an-object"
        ),
        pytest.param({"pipeline": "{p}", "colour": "blue"}, 422, "validation_failed", None, id="unknown-field"),
        pytest.param({}, 422, "validation_failed", None, id="no-pipeline"),
        pytest.param({"pipeline": "no-such-pipeline"}, 422, "pipeline_not_found", "pipeline", id="unknown-pipeline"),
        pytest.param(
            {"pipeline": str(uuid.UUID(int=7))}, 422, "pipeline_not_found", "pipeline", id="unknown-pipeline-id"
        ),
    ],
)
def test_a_bad_run_submission_is_refused_and_writes_nothing(
    system: ConveyorSystem,
    pipeline: dict[str, Any],
    body: Any,
    status: int,
    code: str,
    field: str | None,
) -> None:
    # Given the runs and pipelines that exist
    before = _totals(system)

    # When a bad run is submitted
    if isinstance(body, bytes):
        response = system.http.post("/api/v1/runs", content=body, headers={"Content-Type": "application/json"})
    else:
        response = system.http.post(
            "/api/v1/runs",
            json={k: v.replace("{p}", pipeline["id"]) if isinstance(v, str) else v for k, v in body.items()},
        )

    # Then it is refused with a problem naming what is wrong, and nothing was written
    problem = _assert_problem(response, status, code)
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]], problem
    assert _totals(system) == before


@pytest.mark.acceptance
def test_bad_batches_are_refused_whole(system: ConveyorSystem, pipeline: dict[str, Any]) -> None:
    before = _totals(system)
    valid = {"pipeline": pipeline["id"]}

    # A batch over CONVEYOR_MAX_BATCH_RUNS
    response = system.http.post("/api/v1/runs/batch", json={"runs": [valid] * (MAX_BATCH_RUNS + 1)})
    assert _assert_problem(response, 422, "batch_too_large")["errors"][0]["field"] == "runs"
    # An empty batch
    _assert_problem(system.http.post("/api/v1/runs/batch", json={"runs": []}), 422, "validation_failed")
    # Not a batch at all
    _assert_problem(system.http.post("/api/v1/runs/batch", json=[valid]), 422, "validation_failed")
    # Malformed JSON
    _assert_problem(
        system.http.post("/api/v1/runs/batch", content=b'{"runs": [', headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    # A batch whose last run names an unknown pipeline: the valid runs before it are not created either
    response = system.http.post("/api/v1/runs/batch", json={"runs": [valid, valid, {"pipeline": "no-such-pipeline"}]})
    assert _assert_problem(response, 422, "pipeline_not_found")["errors"][0]["field"] == "runs[2].pipeline"
    # A batch whose second run has a field of the wrong type
    response = system.http.post(
        "/api/v1/runs/batch", json={"runs": [valid, {"pipeline": pipeline["id"], "timeout_seconds": "soon"}]}
    )
    _assert_problem(response, 422, "validation_failed")

    assert _totals(system) == before


@pytest.mark.acceptance
def test_bad_pipelines_are_refused_and_not_created(system: ConveyorSystem, pipeline: dict[str, Any]) -> None:
    before = _totals(system)

    unknown_step = {"name": "bad-step", "spec": {"steps": [{"type": "rm -rf", "path": "/"}]}}
    _assert_problem(system.http.post("/api/v1/pipelines", json=unknown_step), 422, "invalid_pipeline_spec")
    wrong_type = {"name": "bad-sleep", "spec": {"steps": [{"type": "sleep", "seconds": "long"}]}}
    _assert_problem(system.http.post("/api/v1/pipelines", json=wrong_type), 422, "invalid_pipeline_spec")
    bad_name = {"name": "../etc", "spec": {"steps": []}}
    _assert_problem(system.http.post("/api/v1/pipelines", json=bad_name), 422, "validation_failed")
    taken = {"name": pipeline["name"], "spec": {"steps": []}}
    _assert_problem(system.http.post("/api/v1/pipelines", json=taken), 409, "pipeline_name_taken")

    assert _totals(system) == before


@pytest.mark.acceptance
def test_bad_list_parameters_are_refused(system: ConveyorSystem) -> None:
    _assert_problem(system.http.get("/api/v1/runs", params={"cursor": "not-a-cursor"}), 400, "invalid_cursor")
    _assert_problem(
        system.http.get("/api/v1/runs", params={"cursor": "eyJub3QiOiAiYSBjdXJzb3IifQ"}), 400, "invalid_cursor"
    )
    _assert_problem(system.http.get("/api/v1/runs", params={"limit": 0}), 400, "invalid_parameter")
    _assert_problem(system.http.get("/api/v1/runs", params={"limit": 100_000}), 400, "invalid_parameter")
    _assert_problem(system.http.get("/api/v1/runs", params={"status": "DONE"}), 400, "invalid_parameter")
    _assert_problem(system.http.get("/api/v1/runs", params={"created_after": "yesterday"}), 400, "invalid_parameter")


@pytest.mark.acceptance
def test_unknown_runs_are_not_found_and_not_created(system: ConveyorSystem) -> None:
    before = _totals(system)
    missing = str(uuid.uuid4())

    for method, path in [("GET", ""), ("GET", "/events"), ("GET", "/logs"), ("POST", "/cancel"), ("POST", "/retry")]:
        response = system.http.request(method, f"/api/v1/runs/{missing}{path}")
        _assert_problem(response, 404, "run_not_found")
    _assert_problem(system.http.get(f"/api/v1/runs/{missing}/logs/stream"), 404, "run_not_found")
    response = system.http.get("/api/v1/runs/not-a-run-id")
    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"]

    assert _totals(system) == before


@pytest.mark.acceptance
def test_a_finished_run_cannot_be_cancelled_and_a_succeeded_one_not_retried(
    system: ConveyorSystem,
    pipeline: dict[str, Any],
) -> None:
    run_id = system.submit(pipeline["id"])["id"]
    assert system.wait_runs([run_id], timeout=20)[run_id]["status"] == "SUCCEEDED"
    events = system.events(run_id)

    _assert_problem(system.cancel(run_id), 409, "run_not_cancellable")
    _assert_problem(system.http.post(f"/api/v1/runs/{run_id}/retry"), 409, "run_not_retryable")

    assert system.events(run_id) == events
    assert system.run(run_id)["status"] == "SUCCEEDED"


@pytest.mark.acceptance
def test_requests_without_valid_credentials_are_refused_and_write_nothing(
    system: ConveyorSystem, pipeline: dict[str, Any]
) -> None:
    before = _totals(system)
    with system.anonymous() as anonymous:
        requests = [
            ("POST", "/api/v1/runs", {"pipeline": pipeline["id"]}),
            ("POST", "/api/v1/runs/batch", {"runs": [{"pipeline": pipeline["id"]}]}),
            ("POST", "/api/v1/pipelines", {"name": "sneaky", "spec": {"steps": []}}),
            ("GET", "/api/v1/runs", None),
        ]
        for method, path, body in requests:
            _assert_problem(anonymous.request(method, path, json=body), 401, "unauthorized")
            forged = anonymous.request(method, path, json=body, headers={"Authorization": "Bearer not-a-token"})
            assert forged.status_code == 401, forged.text
            assert forged.headers["content-type"].startswith(PROBLEM)
    assert _totals(system) == before
