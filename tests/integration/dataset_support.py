"""Helpers the data center tests share: a small CSV, an upload, an import run on a worker, a generated dataset."""

from __future__ import annotations

import uuid

from httpx import Response
from litestar.testing import TestClient

from app.api.app import create_app
from app.settings import Settings
from tests.integration.engine_parts import Engine_

SALES = b"name,amount,day\nalice,12.5,2026-01-02\nbob,3,2026-01-03\ncarol,40,2026-01-04\ndave,,2026-01-05\n"


def upload(client: TestClient, content: bytes, filename: str = "sales.csv", **fields: str) -> dict:
    fields.setdefault("name", f"sales-{uuid.uuid4().hex[:8]}")
    response = client.post("/api/v1/datasets", files={"file": (filename, content, "text/csv")}, data=fields)
    assert response.status_code == 201, response.text
    return response.json()


def run_import(client: TestClient, parts: Engine_, dataset_id: str, config: dict | None = None) -> dict:
    response = client.post(f"/api/v1/datasets/{dataset_id}/imports", json=config or {})
    assert response.status_code == 202, response.text
    run = response.json()
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run["id"]))
    return client.get(f"/api/v1/runs/{run['id']}").json()


def generated(client: TestClient, parts: Engine_, sql: str) -> str:
    """The id of the dataset a one-step pipeline writes from `sql`."""
    spec = {"steps": [{"type": "sql", "sql": sql}], "output": {"dataset": f"out-{uuid.uuid4().hex[:8]}"}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec}).json()
    run = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={}).json()
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run["id"]))
    finished = client.get(f"/api/v1/runs/{run['id']}").json()
    assert finished["status"] == "SUCCEEDED", finished["error"]
    return finished["output_dataset_id"]


def complete_elsewhere(settings: Settings, client: TestClient, upload_id: str, name: str) -> Response:
    """POST complete to the upload through another API process (an app of its own), as `client`'s user."""
    with TestClient(app=create_app(settings)) as other:
        return other.post(
            f"/api/v1/uploads/{upload_id}/complete",
            json={"name": name},
            headers={"Authorization": client.headers["Authorization"]},
        )
