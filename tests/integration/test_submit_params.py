"""Run parameters are checked at submit by the rule the worker applies (app.pipeline.params.resolve): a bad one is
422 invalid_pipeline_params naming it, instead of a run that fails later."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

SPEC = {"params": {"floor": {"type": "integer"}, "day": {"type": "date", "default": "2026-01-01"}}, "steps": []}


@pytest.fixture
def typed(client: TestClient) -> dict:
    response = client.post("/api/v1/pipelines", json={"name": "typed", "spec": SPEC})
    assert response.status_code == 201, response.text
    return response.json()


def runs_written(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM runs")).scalar_one())


def assert_param_error(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_pipeline_params"
    assert [e["field"] for e in body["errors"]] == [field]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"floor": "lots"}, "params.floor"),  # the wrong type
        ({"floor": 2**63}, "params.floor"),  # past a BIGINT
        ({"floor": 1, "day": "31/01/2026"}, "params.day"),
        ({"floor": 1, "ceiling": 2}, "params.ceiling"),  # not declared
        ({}, "params.floor"),  # required, no default
    ],
)
def test_a_bad_param_is_refused_at_submit(
    client: TestClient, engine: Engine, typed: dict, params: dict, field: str
) -> None:
    assert_param_error(client.post("/api/v1/runs", json={"pipeline": "typed", "params": params}), field)
    # POST /pipelines/{ref}/runs applies the same rule
    assert_param_error(client.post(f"/api/v1/pipelines/{typed['id']}/runs", json={"params": params}), field)
    assert runs_written(engine) == 0


def test_good_params_and_a_pipeline_declaring_none_still_submit(
    client: TestClient, typed: dict, pipeline: dict
) -> None:
    good = client.post("/api/v1/runs", json={"pipeline": "typed", "params": {"floor": "3"}})
    assert good.status_code == 201, good.text
    # A pipeline that declares no parameters ignores those it is given (the worker logs a warning): unchanged.
    assert client.post("/api/v1/runs", json={"pipeline": "noop", "params": {"any": 1}}).status_code == 201
    ignored = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"params": {"any": 1}})
    assert ignored.status_code == 201, ignored.text


def test_the_batch_names_the_item_with_the_bad_param(client: TestClient, engine: Engine, typed: dict) -> None:
    runs = [{"pipeline": "typed", "params": {"floor": 1}}, {"pipeline": "typed", "params": {"floor": "x"}}]
    assert_param_error(client.post("/api/v1/runs/batch", json={"runs": runs}), "runs[1].params.floor")
    assert runs_written(engine) == 0  # all or nothing, as for an unknown pipeline


def test_deployments_check_their_params_and_their_trigger_overrides(client: TestClient, typed: dict) -> None:
    body = {"name": "d", "pipeline": "typed", "schedule": {"kind": "cron", "cron": "0 * * * *"}}
    assert_param_error(client.post("/api/v1/deployments", json={**body, "params": {"floor": "x"}}), "params.floor")
    created = client.post("/api/v1/deployments", json={**body, "params": {"floor": 1}})
    assert created.status_code == 201, created.text
    path = f"/api/v1/deployments/{created.json()['id']}"
    assert_param_error(client.patch(path, json={"params": {"floor": 1.5}}), "params.floor")
    assert_param_error(client.post(f"{path}/trigger", json={"params": {"day": "someday"}}), "params.day")
    assert client.post(f"{path}/trigger", json={"params": {"floor": 7}}).status_code == 201
