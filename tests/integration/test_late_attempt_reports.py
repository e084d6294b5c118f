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


def test_a_late_attempt_leaves_the_winning_attempts_validation_report(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt, paused past its lease while its retry ran and succeeded, woke and wrote its validate steps'
    report over the retry's: the run showed checks of the attempt that lost."""
    steps = [
        {"id": "rows", "type": "sql", "sql": "SELECT * FROM (VALUES (1), (2), (3)) AS t(n)"},
        {"id": "check", "type": "validate", "rules": [{"rule": "row_count", "min": 1}]},
    ]
    pipeline = client.post("/api/v1/pipelines", json={"name": "checked", "spec": {"steps": steps}}).json()
    run_id: str = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": 1}).json()["id"]
    real = pipeline_job.run_pipeline
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

    monkeypatch.setattr(pipeline_job, "run_pipeline", first_pauses_past_its_lease)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is None  # the run is no longer the first attempt's

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["attempt"]) == ("SUCCEEDED", 2), run
    assert [(v["step"], v["rows"]) for v in run["validation"]] == [("check", 3)], run["validation"]
