"""GET /runs/{id}/report: what a run checked (params, validate steps, output schema, rows), from what it recorded."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient
from sqlalchemy.orm import Session

from app.core.states import RunStatus
from app.domain.pipelines import create_pipeline
from tests.integration.engine_parts import Engine_

ROWS = "SELECT * FROM (VALUES (1, 'a'), (2, NULL), (3, 'c')) AS t(n, label) WHERE n >= $floor"


def spec(*, fail_on_nulls: bool) -> dict[str, Any]:
    return {
        "params": {"floor": {"type": "integer", "default": 0}, "tag": {"type": "string", "default": "x"}},
        "steps": [
            {"id": "rows", "type": "sql", "sql": ROWS},
            {
                "id": "labels",
                "type": "validate",
                "rules": [
                    {"rule": "not_null", "columns": ["label"], "severity": "fail" if fail_on_nulls else "warn"},
                    {"rule": "row_count", "min": 1},
                ],
            },
            {"id": "again", "type": "validate", "rules": [{"rule": "unique", "columns": ["n"]}]},
        ],
        "output": {"dataset": "report_out_{{ params.tag }}"},
    }


def run(parts: Engine_, name: str, document: dict[str, Any], params: dict[str, Any]) -> uuid.UUID:
    with Session(parts.engine) as session, session.begin():
        create_pipeline(session, namespace="default", name=name, description="", spec=document)
    [run_id] = parts.submit(name, params=params)
    parts.relay.relay_once()
    parts.executor.execute(run_id)
    return run_id


def test_a_succeeded_run_reports_its_params_checks_and_output(parts: Engine_, client: TestClient) -> None:
    run_id = run(parts, "reported", spec(fail_on_nulls=False), {"floor": 1})
    report = client.get(f"/api/v1/runs/{run_id}/report")
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["status"], body["passed"], body["params_ok"]) == ("SUCCEEDED", True, True)
    assert [(p["name"], p["source"], p["value"], p["ok"]) for p in body["params"]] == [
        ("floor", "given", 1, True),
        ("tag", "default", "x", True),
    ]
    labels, again = body["checks"]
    assert (labels["step"], labels["reached"], labels["passed"], labels["rows"]) == ("labels", True, True, 3)
    not_null = labels["rules"][0]
    assert (not_null["rule"], not_null["severity"], not_null["violations"], not_null["passed"]) == (
        "not_null",
        "warn",
        1,
        False,
    )
    assert (again["step"], again["reached"], again["passed"]) == ("again", True, True)
    output = body["output"]
    assert (output["dataset_name"], output["version"], output["rows"]) == ("report_out_x", 1, 3)
    assert [c["name"] for c in output["columns"]] == ["n", "label"]
    assert body["rows_out"] == 3


def test_a_run_stopped_by_a_rule_shows_the_broken_rule_and_what_it_never_reached(
    parts: Engine_, client: TestClient
) -> None:
    run_id = run(parts, "stopped", spec(fail_on_nulls=True), {})
    body = client.get(f"/api/v1/runs/{run_id}/report").json()
    assert (body["status"], body["passed"], body["error_code"]) == (
        RunStatus.FAILED,
        False,
        "data_validation_failed",
    )
    labels, again = body["checks"]
    assert (labels["passed"], labels["rules"][0]["violations"]) == (False, 1)
    assert (again["reached"], again["passed"]) == (False, None)
    assert body["output"] is None


def test_a_report_of_a_run_nobody_may_see_is_404(client: TestClient) -> None:
    response = client.get(f"/api/v1/runs/{uuid.uuid4()}/report")
    assert (response.status_code, response.json()["code"]) == (404, "run_not_found")
