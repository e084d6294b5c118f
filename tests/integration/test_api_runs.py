"""The runs API over HTTP (in-process Litestar, real Postgres and Redis)."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from tests.integration.helpers import count, statuses


def problem_of(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == response.status_code
    assert body["trace_id"] == response.headers["x-request-id"]
    return body


def test_submitting_a_run_writes_the_run_and_its_event_then_sends_it(
    client: TestClient, pipeline: dict, engine: Engine
) -> None:
    response = client.post("/api/v1/runs", json={"pipeline": "noop", "params": {"day": "2026-11-01"}})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "QUEUED"  # sent by the API right after its commit
    assert run["pipeline_id"] == pipeline["id"]
    assert run["params"] == {"day": "2026-11-01"}
    assert response.headers["location"] == f"/api/v1/runs/{run['id']}"
    assert statuses(engine, run["id"]) == ["PENDING", "QUEUED"]
    assert count(engine, "outbox", "run_id = :id", id=run["id"]) == 0
    # answered from the inserted row, not read back: it must still be what a read of the run says
    assert client.get(f"/api/v1/runs/{run['id']}").json() == run


def test_a_pipeline_can_be_named_by_id(client: TestClient, pipeline: dict) -> None:
    response = client.post("/api/v1/runs", json={"pipeline": pipeline["id"]})
    assert response.status_code == 201
    assert response.json()["pipeline_id"] == pipeline["id"]


def test_idempotency_key_same_body_same_run(client: TestClient, pipeline: dict, engine: Engine) -> None:
    headers = {"Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/runs", json={"pipeline": "noop", "params": {"a": 1}}, headers=headers)
    again = client.post("/api/v1/runs", json={"params": {"a": 1}, "pipeline": "noop"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()  # the replay reads the runs back; the first answer came from the insert
    assert again.headers["idempotent-replayed"] == "true"
    assert count(engine, "runs") == 1


def test_idempotency_key_with_another_body_is_a_conflict(client: TestClient, pipeline: dict, engine: Engine) -> None:
    headers = {"Idempotency-Key": "abc-2"}
    assert client.post("/api/v1/runs", json={"pipeline": "noop"}, headers=headers).status_code == 201
    response = client.post("/api/v1/runs", json={"pipeline": "noop", "priority": 5}, headers=headers)
    assert response.status_code == 409
    assert problem_of(response)["code"] == "idempotency_key_reused"
    assert count(engine, "runs") == 1


def test_batch_submits_all_runs_in_one_go(client: TestClient, pipeline: dict, engine: Engine) -> None:
    response = client.post(
        "/api/v1/runs/batch", json={"runs": [{"pipeline": "noop", "params": {"i": i}} for i in range(300)]}
    )
    assert response.status_code == 201, response.text
    runs = response.json()["runs"]
    assert [r["params"]["i"] for r in runs] == list(range(300))
    assert {r["trigger"] for r in runs} == {"batch"}
    assert count(engine, "runs") == 300
    assert count(engine, "outbox") == 0  # sent at once (the eager send)
    assert count(engine, "run_events", "to_status = 'QUEUED'") == 300
    assert client.get(f"/api/v1/runs/{runs[123]['id']}").json() == runs[123]


def test_batch_over_the_limit_writes_nothing(client: TestClient, pipeline: dict, engine: Engine) -> None:
    response = client.post("/api/v1/runs/batch", json={"runs": [{"pipeline": "noop"}] * 1001})
    assert response.status_code == 422
    body = problem_of(response)
    assert body["code"] == "batch_too_large"
    assert body["errors"][0]["field"] == "runs"
    assert count(engine, "runs") == 0


def test_batch_with_one_unknown_pipeline_writes_nothing(client: TestClient, pipeline: dict, engine: Engine) -> None:
    response = client.post("/api/v1/runs/batch", json={"runs": [{"pipeline": "noop"}, {"pipeline": "nope"}]})
    assert response.status_code == 422
    body = problem_of(response)
    assert body["code"] == "pipeline_not_found"
    assert body["errors"][0]["field"] == "runs[1].pipeline"
    assert count(engine, "runs") == 0


def test_malformed_json_is_a_400(client: TestClient, pipeline: dict, engine: Engine) -> None:
    response = client.post(
        "/api/v1/runs", content=b'{"pipeline": "noop",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert problem_of(response)["code"] == "malformed_json"
    assert count(engine, "runs") == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,  # deeper than the decoder's recursion limit: was a 500 (RecursionError)
        b'{"pipeline": "noop", "params": {"a": "\\u0000", "b": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"pipeline": "\xff"}',  # bytes that are not UTF-8 in a string: was a 500 (UnicodeDecodeError)
    ],
    ids=["too-deep", "too-deep-with-a-nul", "not-utf-8"],
)
def test_json_the_decoder_chokes_on_is_a_400(client: TestClient, pipeline: dict, engine: Engine, body: bytes) -> None:
    response = client.post("/api/v1/runs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert problem_of(response)["code"] == "malformed_json"
    assert count(engine, "runs") == 0


def test_wrong_types_name_the_field(client: TestClient, pipeline: dict, engine: Engine) -> None:
    response = client.post("/api/v1/runs", json={"pipeline": "noop", "max_retries": "three"})
    assert response.status_code == 422
    body = problem_of(response)
    assert body["code"] == "validation_failed"
    assert body["errors"][0]["field"] == "max_retries"
    assert count(engine, "runs") == 0


def test_a_timeout_beyond_what_a_run_can_hold_is_a_422(client: TestClient, pipeline: dict, engine: Engine) -> None:
    """The run bounds are the deployment bounds: a timeout past int4 was a 500 from the insert."""
    response = client.post("/api/v1/runs", json={"pipeline": "noop", "timeout_seconds": 2**31})
    assert response.status_code == 422, response.text
    assert problem_of(response)["errors"][0]["field"] == "timeout_seconds"
    assert count(engine, "runs") == 0


def test_unknown_fields_are_refused(client: TestClient, pipeline: dict) -> None:
    response = client.post("/api/v1/runs", json={"pipeline": "noop", "paramz": {}})
    assert response.status_code == 422
    assert problem_of(response)["code"] == "validation_failed"


def test_unknown_pipeline_is_a_422_naming_the_field(client: TestClient, engine: Engine) -> None:
    response = client.post("/api/v1/runs", json={"pipeline": "missing"})
    assert response.status_code == 422
    body = problem_of(response)
    assert body["code"] == "pipeline_not_found"
    assert body["errors"] == [{"field": "pipeline", "message": "pipeline 'missing' does not exist"}]


def test_a_submit_names_its_pipeline_by_name_in_a_namespace_or_by_id_and_never_an_archived_one(
    client: TestClient, pipeline: dict, engine: Engine
) -> None:
    by_name = client.post("/api/v1/runs", json={"pipeline": "noop", "namespace": "default"})
    assert (by_name.status_code, by_name.json()["pipeline_id"]) == (201, pipeline["id"])
    nowhere = client.post("/api/v1/runs", json={"pipeline": "noop", "namespace": "nowhere"})
    assert (nowhere.status_code, problem_of(nowhere)["code"]) == (422, "namespace_not_found")
    assert client.post(f"/api/v1/pipelines/{pipeline['id']}/archive").status_code == 200
    for reference in ("noop", pipeline["id"]):
        refused = client.post("/api/v1/runs", json={"pipeline": reference})
        assert (refused.status_code, problem_of(refused)["code"]) == (422, "pipeline_not_found"), reference
    assert count(engine, "runs") == 1


def test_an_unknown_run_is_a_404(client: TestClient) -> None:
    response = client.get(f"/api/v1/runs/{uuid.uuid4()}")
    assert response.status_code == 404
    assert problem_of(response)["code"] == "run_not_found"


def test_a_bad_cursor_is_a_400(client: TestClient) -> None:
    response = client.get("/api/v1/runs", params={"cursor": "garbage!"})
    assert response.status_code == 400
    assert problem_of(response)["code"] == "invalid_cursor"


def test_a_bad_filter_value_is_a_400(client: TestClient) -> None:
    response = client.get("/api/v1/runs", params={"status": "SLEEPING"})
    assert response.status_code == 400
    assert problem_of(response)["code"] == "invalid_parameter"


def test_listing_walks_every_run_once_newest_first(client: TestClient, pipeline: dict) -> None:
    client.post("/api/v1/runs/batch", json={"runs": [{"pipeline": "noop", "params": {"i": i}} for i in range(25)]})
    for i in range(5):
        client.post("/api/v1/runs", json={"pipeline": "noop", "params": {"i": 100 + i}})
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/runs", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 30
    assert len({r["id"] for r in seen}) == 30
    assert [r["params"]["i"] for r in seen[:5]] == [104, 103, 102, 101, 100]
    created = [(r["created_at"], r["id"]) for r in seen]
    assert created == sorted(created, reverse=True)


def test_listing_filters(client: TestClient, pipeline: dict) -> None:
    other = client.post("/api/v1/pipelines", json={"name": "other", "spec": {"steps": []}}).json()
    client.post("/api/v1/runs", json={"pipeline": "noop"})
    client.post("/api/v1/runs/batch", json={"runs": [{"pipeline": "other"}] * 3})
    by_pipeline = client.get("/api/v1/runs", params={"pipeline": "other"}).json()["items"]
    assert {r["pipeline_id"] for r in by_pipeline} == {other["id"]}
    assert len(by_pipeline) == 3
    assert len(client.get("/api/v1/runs", params={"trigger": "api"}).json()["items"]) == 1
    assert len(client.get("/api/v1/runs", params={"status": ["PENDING", "QUEUED"]}).json()["items"]) == 4
    assert client.get("/api/v1/runs", params={"status": "SUCCEEDED"}).json()["items"] == []
    assert len(client.get("/api/v1/runs", params={"kind": "pipeline"}).json()["items"]) == 4
    later = client.get("/api/v1/runs", params={"created_after": "2100-01-01T00:00:00Z"}).json()["items"]
    assert later == []
    earlier = client.get("/api/v1/runs", params={"created_before": "2100-01-01T00:00:00Z"}).json()["items"]
    assert len(earlier) == 4


def test_cancelling_a_run_not_started_is_immediate_and_final(
    client: TestClient, pipeline: dict, engine: Engine
) -> None:
    run = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    response = client.post(f"/api/v1/runs/{run['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["error"]["code"] == "cancelled"
    again = client.post(f"/api/v1/runs/{run['id']}/cancel")
    assert again.status_code == 409
    assert problem_of(again)["code"] == "run_not_cancellable"
    assert statuses(engine, run["id"]) == ["PENDING", "QUEUED", "CANCELLED"]  # QUEUED: the eager send


def test_retrying_a_cancelled_run_queues_it_again(client: TestClient, pipeline: dict, engine: Engine) -> None:
    run = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    client.post(f"/api/v1/runs/{run['id']}/cancel")
    response = client.post(f"/api/v1/runs/{run['id']}/retry")
    assert response.status_code == 202
    assert response.json()["status"] == "PENDING"
    assert response.json()["error"] is None
    assert statuses(engine, run["id"]) == ["PENDING", "QUEUED", "CANCELLED", "PENDING"]
    assert count(engine, "outbox", "run_id = :id", id=run["id"]) == 1  # the retry's (the first went eagerly)


def test_a_pending_run_cannot_be_retried(client: TestClient, pipeline: dict) -> None:
    run = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    response = client.post(f"/api/v1/runs/{run['id']}/retry")
    assert response.status_code == 409
    assert problem_of(response)["code"] == "run_not_retryable"


def test_events_list_the_transitions(client: TestClient, pipeline: dict) -> None:
    run = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    events = client.get(f"/api/v1/runs/{run['id']}/events").json()["items"]
    assert [(e["from_status"], e["to_status"], e["reason"], e["actor"].split(":")[0]) for e in events] == [
        (None, "PENDING", "created", "user"),
        ("PENDING", "QUEUED", "dispatched", "api"),  # the API's eager send
    ]
    assert events[0]["actor"] == "user:root"


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) >= 16
    assert client.get("/healthz", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"] == "trace-42"
    evil = client.get("/healthz", headers={"X-Request-ID": "a b\tc"}).headers["x-request-id"]
    assert evil != "a b\tc"


def test_readiness_checks_database_migrations_redis_and_storage(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok", "storage": "ok"}


def test_unknown_routes_are_problems_too(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert problem_of(response)["code"] == "route_not_found"
