"""Races at an attempt's end: what the worker did decides how the run ends, not a signal that came too late."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count, statuses
from workers import pipeline_job
from workers.context import Interruption


def test_a_worker_stopping_after_its_attempt_succeeded_does_not_retry_the_run(
    parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop came once the steps were done (their last check passed): the attempt was handed back as if
    interrupted, the run went RETRYING and ran again, though it had succeeded (and a pipeline's steps have
    effects: its output was written again by the second run)."""
    parts.pipeline("done-then-stopped", [{"type": "log", "message": "did its work"}])
    [run_id] = parts.submit("done-then-stopped", max_retries=0)
    real = pipeline_job._record_validations

    def stopped_after(*args: Any, **kwargs: Any) -> Any:
        parts.active.interrupt_all(Interruption.SHUTDOWN)  # the worker is asked to stop just now
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job, "_record_validations", stopped_after)
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert statuses(parts.engine, run_id)[-2:] == ["RUNNING", "SUCCEEDED"]
    assert count(parts.engine, "outbox", "run_id = :id", id=str(run_id)) == 0


def test_an_attempt_the_reaper_gave_away_publishes_no_version(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attempt whose lease lapsed while it wrote (a long pause, a partition from the database) went on and
    committed its version after the reaper had ended its run FAILED worker_lost: a FAILED run published a version,
    its dataset read it (or, with a retry, published it under the retry that was writing the same files)."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    spec = {"steps": [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}], "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{output}", "spec": spec}).json()
    run_id = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": 0}).json()["id"]
    real = pipeline_job.data_files.publish_version

    def given_away_first(*args: Any, **kwargs: Any) -> Any:
        """Its files are written; before it publishes them its lease lapses and the reaper ends the run."""
        with parts.engine.begin() as connection:
            connection.execute(
                text("UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
            )
        assert parts.reaper.reap_lost() == 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", given_away_first)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is None  # the run is no longer this attempt's

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("FAILED", "worker_lost"), run
    assert count(parts.engine, "dataset_versions", "run_id = :id", id=run_id) == 0
    [dataset] = client.get("/api/v1/datasets", params={"search": output}).json()["items"]
    assert (dataset["status"], dataset["current_version"]) == ("failed", None), dataset
