"""Runs whose attempts write their version's files in folders of their own (…/runs/<run>/a<attempt>/), on a local
data root and in S3: a run of a one-row pipeline, an attempt killed leaving its files, what a run's folder holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from litestar.testing import TestClient

from app.paths import DATA_FILE, dataset_dir, dataset_prefix
from app.settings import Settings
from app.storage import store_for
from scheduler.attempt_sweep import GRACE, AttemptSweep
from tests.integration.engine_parts import Engine_
from workers import pipeline_job

#: What an attempt given up on writes late: a row the pipeline never makes.
LATE = 666


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    """Each data root in turn (a test module imports it): this host's disk, and a real S3-compatible store
    (SeaweedFS)."""
    if request.param == "local":
        return settings
    server = request.getfixturevalue("s3_server")
    monkeypatch = request.getfixturevalue("monkeypatch")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return msgspec.structs.replace(settings, data_root=server.root_url(), cache_dir=str(tmp_path / "host"))


def start_run(client: TestClient, *, max_retries: int, output: str | None = None) -> str:
    """A run of a pipeline writing one row (n = 1) to its own output (`output`, a template, or a fresh name); its id."""
    output = output or f"out-{uuid.uuid4().hex[:6]}"
    spec = {"steps": [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}], "output": {"dataset": output}}
    name = f"p-{uuid.uuid4().hex[:8]}"
    pipeline = client.post("/api/v1/pipelines", json={"name": name, "spec": spec}).json()
    run: str = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": max_retries}).json()["id"]
    return run


def run_prefix(dataset_id: uuid.UUID, run_id: str) -> str:
    """Where the store keeps the files of the run's version: a folder of each attempt's (`a1`, `a2`, ...)."""
    return f"{dataset_prefix(dataset_id)}/runs/{run_id}"


def run_dir(parts: Engine_, dataset_id: uuid.UUID, run_id: str) -> Path:
    """This host's folder of the run's version files (the store's own on a local root, else scratch)."""
    return dataset_dir(parts.settings.data_path, dataset_id) / "runs" / run_id


def attempt_folders(parts: Engine_, dataset_id: uuid.UUID, run_id: str) -> list[str]:
    """What the run's version folder holds, in the store and on this host (an attempt's folder, or a file)."""
    prefix = run_prefix(dataset_id, run_id)
    stored = {key[len(prefix) + 1 :].split("/")[0] for key in store_for(parts.settings.data_root).list(prefix)}
    local = run_dir(parts, dataset_id, run_id)
    here = {p.name for p in local.iterdir()} if local.is_dir() else set()
    return sorted(stored | here)


def output_of(client: TestClient, run_id: str) -> tuple[uuid.UUID, list[Any]]:
    """The run's output dataset and its rows."""
    run = client.get(f"/api/v1/runs/{run_id}").json()
    rows = client.get(f"/api/v1/datasets/{run['output_dataset_id']}/rows").json()["rows"]
    return uuid.UUID(run["output_dataset_id"]), rows


def write_late(parts: Engine_, dataset_id: uuid.UUID, run_id: str, attempt: int) -> None:
    """An attempt's files, as one given up on writes them late (here and in the store), and a kill leaves them."""
    folder = run_dir(parts, dataset_id, run_id) / f"a{attempt}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"n": [LATE]}), folder / DATA_FILE)
    key = f"{run_prefix(dataset_id, run_id)}/a{attempt}/{DATA_FILE}"
    store_for(parts.settings.data_root).put_file(key, folder / DATA_FILE)


def killed_leaving_files(client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch, run_id: str) -> uuid.UUID:
    """The run's next attempt, its worker killed as it published its files, which it leaves behind (here and in the
    store); the run's output dataset."""
    real = pipeline_job.data_files.publish_version

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("killed")

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", killed)
    parts.relay.relay_once()
    with pytest.raises(SystemExit):
        parts.executor.execute(uuid.UUID(run_id))
    monkeypatch.setattr(pipeline_job.data_files, "publish_version", real)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    dataset_id = uuid.UUID(run["output_dataset_id"])
    # a kill runs nothing of the attempt's own end (SystemExit did): its files, as a real kill leaves them
    write_late(parts, dataset_id, run_id, run["attempt"])
    return dataset_id


def sweep_all(parts: Engine_, since: datetime) -> int:
    """Every pass of a sweep of the runs that ended since `since`, as if the grace period had passed; the attempts'
    folders removed."""
    sweep = AttemptSweep(engine=parts.engine, settings=parts.settings, batch=5)
    sweep.start_from(since)
    later = datetime.now(UTC) + GRACE
    removed = 0
    while (done := sweep.sweep_once(now=later))[0]:
        removed += done[1]
    return removed


def killed_run(client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch) -> tuple[str, uuid.UUID]:
    """A run allowed one retry whose first attempt was killed leaving its files; the run and its output dataset."""
    run_id = start_run(client, max_retries=1)
    return run_id, killed_leaving_files(client, parts, monkeypatch, run_id)
