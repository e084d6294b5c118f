"""A run names its pipeline, deployment and dataset, however many there are (the console shows these names)."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import Engine, text

from tests.integration.dataset_support import upload

HOURLY = {"kind": "interval", "seconds": 3600, "anchor": "2026-01-01T00:00:00Z"}


def _many_pipelines(engine: Engine, count: int) -> None:
    """`count` more pipelines in the default namespace, inserted at once (the API's list caps a page at 500)."""
    with engine.begin() as conn:
        namespace = conn.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
        conn.execute(
            text("INSERT INTO pipelines (id, namespace_id, name) VALUES (:id, :ns, :name)"),
            [{"id": uuid.uuid4(), "ns": namespace, "name": f"bulk-{i:04d}"} for i in range(count)],
        )


def test_the_runs_list_names_the_pipeline_of_every_run_past_the_first_500(
    client: TestClient, pipeline: dict, engine: Engine
) -> None:
    _many_pipelines(engine, 600)
    last = client.post("/api/v1/pipelines", json={"name": "clean-the-last", "spec": {"steps": []}}).json()
    run = client.post("/api/v1/runs", json={"pipeline": last["id"]}).json()
    assert run["names"] == {"pipeline": "clean-the-last", "deployment": None, "dataset": None}

    listed = client.get("/api/v1/runs").json()["items"]
    assert [(r["id"], r["names"]["pipeline"]) for r in listed] == [(run["id"], "clean-the-last")]
    assert client.get(f"/api/v1/runs/{run['id']}").json() == run


def test_a_scheduled_run_names_its_deployment_and_an_import_its_dataset(client: TestClient, pipeline: dict) -> None:
    deployment = client.post(
        "/api/v1/deployments", json={"name": "hourly", "pipeline": "noop", "schedule": HOURLY}
    ).json()
    triggered = client.post(f"/api/v1/deployments/{deployment['id']}/trigger", json={})
    assert triggered.status_code == 201, triggered.text
    assert triggered.json()["names"] == {"pipeline": "noop", "deployment": "hourly", "dataset": None}

    dataset = upload(client, b"a,b\n1,2\n", name="销售")
    started = client.post(f"/api/v1/datasets/{dataset['id']}/imports", json={})
    assert started.status_code == 202, started.text
    assert started.json()["names"] == {"pipeline": None, "deployment": None, "dataset": "销售"}

    names = {r["id"]: r["names"] for r in client.get("/api/v1/runs").json()["items"]}
    assert names[started.json()["id"]]["dataset"] == "销售"
    assert names[triggered.json()["id"]]["deployment"] == "hourly"
