"""An automatic retry of a pipeline run goes on writing the output its earlier attempt made: it reuses the dataset
(and a version that attempt published), whatever its name's template renders now, and it never makes again an
output the user deleted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count
from workers import pipeline_job


class _Killed(BaseException):
    """The worker process killed at that point (SIGKILL, an OOM kill): nothing after it runs, no outcome is written."""


def _run(client: TestClient, output: str) -> str:
    """A run (two retries) of a pipeline writing one row to `output`; its id."""
    spec = {"steps": [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}], "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec})
    assert pipeline.status_code == 201, pipeline.text
    run: str = client.post(f"/api/v1/pipelines/{pipeline.json()['id']}/runs", json={"max_retries": 2}).json()["id"]
    return run


def _killed_at(parts: Engine_, monkeypatch: pytest.MonkeyPatch, run_id: str, target: Any, name: str) -> None:
    """The run's first attempt, its worker killed when it calls `target.name`; then the reaper retries it."""
    real = getattr(target, name)

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise _Killed

    monkeypatch.setattr(target, name, killed)
    parts.relay.relay_once()
    with pytest.raises(_Killed):
        parts.executor.execute(uuid.UUID(run_id))
    monkeypatch.setattr(target, name, real)
    with parts.engine.begin() as connection:  # a lease later
        connection.execute(
            text("UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
    assert parts.reaper.reap_lost() == 1
    parts.relay.relay_once()


def _datasets(client: TestClient, search: str) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/datasets", params={"search": search}).json()["items"])


def test_a_run_whose_worker_died_after_publishing_a_templated_output_makes_no_second_dataset(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry rendered its output's name anew (its start time differs), made a second dataset, and its version
    broke UNIQUE (dataset_versions.run_id): each attempt ended internal_error and the run FAILED. The reaper now ends
    the run SUCCEEDED from the version its attempt published (no retry runs: test_published_then_lost)."""
    prefix = f"out-{uuid.uuid4().hex[:6]}-"
    run_id = _run(client, prefix + "{{ run.started_at }}")
    # killed once its version was published (its files kept in this host's cache is what comes next)
    _killed_at(parts, monkeypatch, run_id, pipeline_job.data_files, "keep_version_cached")
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]) == ("SUCCEEDED", None), run
    [dataset] = _datasets(client, prefix)
    assert (dataset["id"], dataset["status"], dataset["current_version"]) == (run["output_dataset_id"], "ready", 1)
    codes = [e["details"].get("error_code") for e in client.get(f"/api/v1/runs/{run_id}/events").json()["items"]]
    assert "internal_error" not in codes, codes


def test_a_retry_of_a_templated_output_writes_the_dataset_its_first_attempt_made(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry made a second dataset under its newly rendered name, and left the first attempt's one failed."""
    prefix = f"out-{uuid.uuid4().hex[:6]}-"
    run_id = _run(client, prefix + "{{ run.started_at }}")
    _killed_at(parts, monkeypatch, run_id, pipeline_job, "run_contained")  # its output made, nothing written
    made = client.get(f"/api/v1/runs/{run_id}").json()["output_dataset_id"]
    assert made is not None

    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    [dataset] = _datasets(client, prefix)
    assert (dataset["id"], dataset["status"], dataset["current_version"]) == (made, "ready", 1)


def test_an_output_deleted_as_the_retry_starts_is_not_made_again(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user deleted the output the first attempt made as the retry started: the retry found no dataset of that
    name and made a new one, wrote its version there and SUCCEEDED; the deleted dataset was back under its name."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    run_id = _run(client, output)
    _killed_at(parts, monkeypatch, run_id, pipeline_job, "run_contained")
    made = client.get(f"/api/v1/runs/{run_id}").json()["output_dataset_id"]
    named = pipeline_job.output_dataset_name

    def deleted_first(*args: Any, **kwargs: Any) -> Any:
        """The retry has started (RUNNING) and is about to name its output when the user deletes it."""
        assert client.delete(f"/api/v1/datasets/{made}").status_code == 204
        return named(*args, **kwargs)

    monkeypatch.setattr(pipeline_job, "output_dataset_name", deleted_first)
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    asked = [
        e["details"]
        for e in client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
        if e["reason"] == "cancel_requested"
    ]
    assert asked == [{"cause": "dataset_deleted"}]
    assert _datasets(client, output) == []
    assert count(parts.engine, "dataset_versions", "run_id = :id", id=run_id) == 0
