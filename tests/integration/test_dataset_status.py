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


class FailingPipeline:
    """An imported dataset, and a pipeline over it that creates its output dataset, then fails before writing it
    (a `fail` step: retried while the run has retries left)."""

    def __init__(self, client: TestClient, parts: Engine_) -> None:
        self.client, self.parts = client, parts
        self.sales = upload(client, SALES)
        self.attempt(client.post(f"/api/v1/datasets/{self.sales['id']}/imports", json={}).json()["id"])
        self.output = f"out-{uuid.uuid4().hex[:6]}"
        self.pipeline = self.create([{"type": "fail", "message": "boom"}])

    def create(self, steps: list[dict]) -> dict:
        spec = {"inputs": {"sales": {"dataset": self.sales["id"]}}, "steps": steps, "output": {"dataset": self.output}}
        created = self.client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec})
        assert created.status_code == 201, created.text
        return created.json()

    def run(self, pipeline: dict, max_retries: int) -> dict:
        """One attempt of a new run of `pipeline`; the run as it then stands."""
        run = self.client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": max_retries}).json()
        self.attempt(run["id"])
        return self.client.get(f"/api/v1/runs/{run['id']}").json()

    def attempt(self, run_id: str) -> None:
        self.parts.relay.relay_once()
        self.parts.executor.execute(uuid.UUID(run_id))

    def dataset(self) -> dict:
        made = self.client.get("/api/v1/datasets", params={"search": self.output}).json()["items"]
        assert [d["name"] for d in made] == [self.output]
        return self.client.get(f"/api/v1/datasets/{made[0]['id']}").json()


def test_a_failed_pipeline_run_leaves_its_output_dataset_failed_or_at_its_last_version(
    client: TestClient, parts: Engine_
) -> None:
    failing = FailingPipeline(client, parts)
    assert failing.run(failing.pipeline, max_retries=0)["status"] == "FAILED"
    shown = failing.dataset()
    assert (shown["status"], shown["current_version"]) == ("failed", None)
    assert "boom" in shown["last_error"]

    # The same output written once, then a failed run: the written version stays current and readable.
    assert failing.run(failing.create([]), max_retries=0)["status"] == "SUCCEEDED"
    assert failing.dataset()["status"] == "ready"
    assert failing.run(failing.pipeline, max_retries=0)["status"] == "FAILED"
    shown = failing.dataset()
    assert (shown["status"], shown["current_version"]) == ("ready", 1)


def test_a_pipeline_run_cancelled_while_retrying_leaves_no_dataset_importing(
    client: TestClient, parts: Engine_
) -> None:
    failing = FailingPipeline(client, parts)
    run = failing.run(failing.pipeline, max_retries=3)
    assert run["status"] == "RETRYING"
    assert failing.dataset()["status"] == "importing"  # another attempt will write it
    assert client.post(f"/api/v1/runs/{run['id']}/cancel").status_code == 200
    assert failing.dataset()["status"] == "failed"


def test_an_import_cancelled_before_it_started_leaves_no_dataset_importing(client: TestClient) -> None:
    dataset = upload(client, SALES)
    run = client.post(f"/api/v1/datasets/{dataset['id']}/imports", json={}).json()
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["status"] == "importing"
    assert client.post(f"/api/v1/runs/{run['id']}/cancel").json()["status"] == "CANCELLED"
    shown = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert (shown["status"], shown["current_version"]) == ("failed", None)
