"""A dataset's status is kept by the system: the reaper ending a lost import sets it, and the API shows it as stored."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import Engine, text

from tests.integration.dataset_support import SALES, upload
from tests.integration.engine_parts import Engine_


def test_the_reaper_ending_a_lost_import_fails_its_dataset(client: TestClient, parts: Engine_, engine: Engine) -> None:
    dataset = upload(client, SALES)
    response = client.post(f"/api/v1/datasets/{dataset['id']}/imports", json={})
    assert response.status_code == 202, response.text
    run_id = uuid.UUID(response.json()["id"])
    parts.relay.relay_once()
    with engine.begin() as connection:  # a worker started it, then died: no heartbeat for years, no retry left
        connection.execute(
            text(
                "UPDATE runs SET status = 'RUNNING', attempt = 1, max_retries = 0, worker_id = 'gone', "
                "heartbeat_at = now() - interval '10 years' WHERE id = :id"
            ),
            {"id": run_id},
        )
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["status"] == "importing"

    assert parts.reaper.reap_lost() == 1

    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT status, last_error FROM datasets WHERE id = :id"), {"id": dataset["id"]}
        ).one()
    assert stored.status == "failed"
    assert "no heartbeat" in stored.last_error
    shown = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert (shown["status"], shown["last_import"]["status"]) == ("failed", "FAILED")
    listed = client.get("/api/v1/datasets", params={"status": "failed"}).json()["items"]
    assert dataset["id"] in [d["id"] for d in listed]
    assert dataset["id"] not in [
        d["id"] for d in client.get("/api/v1/datasets", params={"status": "importing"}).json()["items"]
    ]
