"""The events a run records agree with how it ended: an import that ends CANCELLED records no
`dataset.import.failed` (the run's CANCELLED event and the `run.cancelled` webhook are the cancel's), whether the
cancel came before it started, while it ran, or while its attempt failed; an import that ends FAILED records one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.core.states import RunStatus
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count
from workers import ingest_job

#: A strict import of SALES that fails on its first row (a name is no integer): not retried.
FAILING = {"columns": {"name": {"type": "integer"}}, "on_error": "strict"}


def _import_failures(engine: Engine, dataset_id: str) -> int:
    return count(engine, "events", "type = 'dataset.import.failed' AND dataset_id = :id", id=dataset_id)


def _start(client: TestClient, parts: Engine_, dataset_id: str, config: dict[str, Any]) -> str:
    response = client.post(f"/api/v1/datasets/{dataset_id}/imports", json=config)
    assert response.status_code == 202, response.text
    parts.relay.relay_once()
    run_id: str = response.json()["id"]
    return run_id


def _cancel_as_it_imports(client: TestClient, monkeypatch: pytest.MonkeyPatch, *, then: str) -> None:
    """The user cancels the running import; it then fails as its file says (`then="fail"`), crashes (`"crash"`: a
    retryable failure) or stops as asked (`"stop"`)."""
    real = ingest_job.import_file

    def cancelled_as_it_imports(*args: Any, **kwargs: Any) -> Any:
        [run] = client.get("/api/v1/runs", params={"status": "RUNNING"}).json()["items"]
        assert client.post(f"/api/v1/runs/{run['id']}/cancel").json()["status"] == "RUNNING"
        if then == "stop":
            raise ingest_job.ImportCancelled("cancelled")
        if then == "crash":
            raise RuntimeError("the disk went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_job, "import_file", cancelled_as_it_imports)


def test_an_import_cancelled_while_its_last_attempt_fails_records_no_import_failure(
    client: TestClient, parts: Engine_, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run ended CANCELLED, but the import had recorded `dataset.import.failed` (sent to webhooks) before its end
    was decided under the run's lock."""
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])  # a version to leave as it is
    _cancel_as_it_imports(client, monkeypatch, then="fail")
    run_id = _start(client, parts, dataset["id"], FAILING)

    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    assert _import_failures(engine, dataset["id"]) == 0
    after = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert (after["status"], after["current_version"]) == ("ready", 1), after
    # the log tells the same end: no "import failed" line before the cancel's, whose line tells the attempt's failure
    lines = [line["message"] for line in client.get(f"/api/v1/runs/{run_id}/logs").json()["items"]]
    assert not [line for line in lines if line.startswith("import failed")], lines
    assert lines[-1].startswith("CANCELLED in "), lines
    assert "(attempt failed: " in lines[-1], lines


def test_an_import_cancelled_while_a_retry_was_next_records_no_import_failure(
    client: TestClient, parts: Engine_, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel overtook a retry; ending the dataset's write then recorded `dataset.import.failed` with the code
    `cancelled`."""
    dataset = upload(client, SALES)
    _cancel_as_it_imports(client, monkeypatch, then="crash")
    run_id = _start(client, parts, dataset["id"], {})
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE runs SET max_retries = 2 WHERE id = %(id)s", {"id": run_id})

    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED
    assert _import_failures(engine, dataset["id"]) == 0
    after = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert after["status"] == "failed", after  # it has no version: not left importing


def test_a_first_import_cancelled_as_it_runs_records_no_import_failure(
    client: TestClient, parts: Engine_, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain cancel of a running import recorded `dataset.import.failed` with the code `cancelled`."""
    dataset = upload(client, SALES)
    _cancel_as_it_imports(client, monkeypatch, then="stop")
    run_id = _start(client, parts, dataset["id"], {})
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED
    assert _import_failures(engine, dataset["id"]) == 0
    after = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert after["status"] == "failed", after  # it has no version: not left importing


def test_a_queued_import_cancelled_records_no_import_failure(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    dataset = upload(client, SALES)
    run_id = _start(client, parts, dataset["id"], {})
    assert client.post(f"/api/v1/runs/{run_id}/cancel").json()["status"] == "CANCELLED"
    assert _import_failures(engine, dataset["id"]) == 0
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["status"] == "failed"


def test_a_failed_import_records_its_failure_once_with_its_end(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    """The failure is still recorded where the end is decided: once, with the import's own code."""
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])
    run = run_import(client, parts, dataset["id"], FAILING)
    assert (run["status"], run["error"]["code"]) == ("FAILED", "import_failed")
    assert _import_failures(engine, dataset["id"]) == 1
    lines = [line["message"] for line in client.get(f"/api/v1/runs/{run['id']}/logs").json()["items"]]
    assert lines[-2].startswith("import failed (import_failed): "), lines  # the failure, then the run's end
    assert lines[-1].startswith("FAILED in "), lines
    with engine.connect() as connection:
        payload = connection.exec_driver_sql(
            "SELECT payload FROM events WHERE type = 'dataset.import.failed' AND dataset_id = %(id)s",
            {"id": dataset["id"]},
        ).scalar_one()
    assert payload["error_code"] == "import_failed", payload
