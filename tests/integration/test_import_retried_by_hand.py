"""A dataset's state agrees with its import's: an import retried by hand shows its dataset importing again while
it runs, as a new import does, and its end is recorded as the first one's was."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import Engine

from app.core.states import RunStatus
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count


def test_a_failed_first_import_retried_by_hand_shows_its_dataset_importing(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    """The dataset stayed `failed`, with the first attempt's error, while its retried import was queued and ran."""
    dataset = upload(client, SALES)
    strict = {"columns": {"name": {"type": "integer"}}, "on_error": "strict"}
    run = run_import(client, parts, dataset["id"], strict)
    assert run["status"] == "FAILED", run
    assert client.get(f"/api/v1/runs/{run['id']}").json()["progress"]["problems"]  # the strict import's first
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["status"] == "failed"

    retried = client.post(f"/api/v1/runs/{run['id']}/retry")
    assert retried.status_code == 202, retried.text
    shown = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert shown["status"] == "importing", shown
    waiting = client.get(f"/api/v1/runs/{run['id']}").json()
    assert waiting["status"] == "PENDING"
    assert waiting["progress"] == {}, waiting["progress"]  # no figures of the attempt before while it waits

    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run["id"])) is RunStatus.FAILED  # the same file fails the same way
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["status"] == "failed"
    failures = count(engine, "events", "type = 'dataset.import.failed' AND dataset_id = :id", id=dataset["id"])
    assert failures == 2  # one per end of the import
