"""What a run reports is its winning attempt's: an attempt given up on (its lease lapsed and its run was retried)
that gets to the end of its steps late changes nothing the run shows."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_, lapse_and_reap
from workers import pipeline_job

#: The row count the late attempt's validate step reports: the pipeline's is 3.
LATE_ROWS = 666
ROW_COUNT = {"rule": "row_count", "min": 1}


def _checked_run(client: TestClient, sql: str) -> str:
    """A run (one retry) of a pipeline of `sql` and a validate step; its id."""
    steps = [{"id": "rows", "type": "sql", "sql": sql}, {"id": "check", "type": "validate", "rules": [ROW_COUNT]}]
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:6]}", "spec": {"steps": steps}})
    run_id: str = client.post(f"/api/v1/pipelines/{pipeline.json()['id']}/runs", json={"max_retries": 1}).json()["id"]
    return run_id


def test_a_late_attempt_leaves_the_winning_attempts_validation_report(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt, paused past its lease while its retry ran and succeeded, woke and wrote its validate steps'
    report over the retry's: the run showed checks of the attempt that lost."""
    run_id = _checked_run(client, "SELECT * FROM (VALUES (1), (2), (3)) AS t(n)")
    real = pipeline_job.run_contained
    calls: list[int] = []

    def first_pauses_past_its_lease(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(calls) + 1)
        result = real(*args, **kwargs)
        if len(calls) > 1:
            return result
        lapse_and_reap(parts, run_id)  # it pauses here; its run is retried, and the retry succeeds meanwhile
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
        late = [msgspec.structs.replace(v, rows=LATE_ROWS) for v in result.validations]
        return msgspec.structs.replace(result, validations=late)

    monkeypatch.setattr(pipeline_job, "run_contained", first_pauses_past_its_lease)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is None  # the run is no longer the first attempt's

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["attempt"]) == ("SUCCEEDED", 2), run
    assert [(v["step"], v["rows"]) for v in run["validation"]] == [("check", 3)], run["validation"]


def test_a_retry_that_fails_before_its_checks_does_not_show_the_earlier_attempts_report(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt ran its validate step, then crashed; its retry crashed before any step ran, and the FAILED
    run showed the first attempt's checks as its own (all passed)."""
    run_id = _checked_run(client, "SELECT 1 AS n")
    recorded = pipeline_job._record_validations

    def crashes_after_its_checks(*args: Any, **kwargs: Any) -> None:
        recorded(*args, **kwargs)
        raise RuntimeError("the worker ran out of memory")

    monkeypatch.setattr(pipeline_job, "_record_validations", crashes_after_its_checks)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.RETRYING
    assert client.get(f"/api/v1/runs/{run_id}").json()["validation"] is not None

    def crashes_at_once(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(pipeline_job, "run_contained", crashes_at_once)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.FAILED
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["attempt"], run["error"]["code"], run["validation"]) == (2, "internal_error", None), run
