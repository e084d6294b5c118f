"""A run writes one immutable version. An attempt that published it (its version row committed) and was then lost
before its run was marked SUCCEEDED left a retry that wrote the version's files again; the run ends SUCCEEDED from
the version instead, as it would have had the attempt not been lost, its files untouched."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from app.core.states import RunStatus
from app.paths import DATA_FILE, version_dir
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count


def _published_run(client: TestClient, parts: Engine_, kind: str) -> tuple[str, str]:
    """A run of `kind` that succeeded, publishing version 1 of its dataset: (run id, dataset id)."""
    if kind == "ingest":
        dataset = upload(client, SALES)
        run = run_import(client, parts, dataset["id"])
        assert run["status"] == "SUCCEEDED", run
        return run["id"], dataset["id"]
    output = f"out-{uuid.uuid4().hex[:6]}"
    spec = {"steps": [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}], "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{output}", "spec": spec}).json()
    run_id = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={}).json()["id"]
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    with parts.engine.connect() as connection:
        dataset_id = connection.execute(text("SELECT dataset_id FROM runs WHERE id = :id"), {"id": run_id}).scalar_one()
    return run_id, str(dataset_id)


def _lost_after_publishing(parts: Engine_, run_id: str, *, max_retries: int) -> None:
    """Back to how the run stood after its attempt committed the version and its worker died: RUNNING, silent."""
    with parts.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE runs SET status = 'RUNNING', finished_at = NULL, worker_id = 'ghost', max_retries = :retries,"
                " heartbeat_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": run_id, "retries": max_retries},
        )


def _files(parts: Engine_, dataset_id: str, run_id: str) -> tuple[int, int]:
    """The version's data file as its first attempt wrote it: (inode, mtime in ns); a rewrite changes it."""
    stat = (version_dir(parts.settings.data_path, uuid.UUID(dataset_id), uuid.UUID(run_id), 1) / DATA_FILE).stat()
    return stat.st_ino, stat.st_mtime_ns


@pytest.mark.parametrize("kind", ["ingest", "pipeline"])
@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_run_lost_after_publishing_its_version_ends_succeeded(
    client: TestClient, parts: Engine_, kind: str, max_retries: int
) -> None:
    """The reaper retried it (its retry rewrote the files) or, with no retry left, ended it FAILED worker_lost
    while its dataset held the version it had published."""
    run_id, dataset_id = _published_run(client, parts, kind)
    before = _files(parts, dataset_id, run_id)
    _lost_after_publishing(parts, run_id, max_retries=max_retries)

    assert parts.reaper.reap_lost() == 1

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]) == ("SUCCEEDED", None), run
    assert count(parts.engine, "outbox", "run_id = :id", id=run_id) == 0  # no retry
    assert _files(parts, dataset_id, run_id) == before
    dataset = client.get(f"/api/v1/datasets/{dataset_id}").json()
    assert (dataset["status"], dataset["current_version"]) == ("ready", 1), dataset


@pytest.mark.parametrize("kind", ["ingest", "pipeline"])
def test_a_retry_of_a_run_whose_version_is_published_ends_succeeded_without_writing(
    client: TestClient, parts: Engine_, kind: str
) -> None:
    """A retry that meets its run's published version (its earlier attempt published, then failed or was lost)
    wrote the version's files again, in place on a local data root."""
    run_id, dataset_id = _published_run(client, parts, kind)
    before = _files(parts, dataset_id, run_id)
    with parts.engine.begin() as connection:  # as a retry is sent: QUEUED, attempt 1 behind it
        connection.execute(text("UPDATE runs SET status = 'QUEUED', finished_at = NULL WHERE id = :id"), {"id": run_id})

    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED

    assert _files(parts, dataset_id, run_id) == before
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["attempt"]) == ("SUCCEEDED", 2), run
    versions = client.get(f"/api/v1/datasets/{dataset_id}/versions").json()["items"]
    assert [v["version"] for v in versions] == [1]
    lines: list[dict[str, Any]] = client.get(f"/api/v1/runs/{run_id}/logs").json()["items"]
    said = [line["notice"]["code"] for line in lines if line["attempt"] == 2 and line["notice"]]
    assert "output_version" in said or "import_version" in said, lines
    assert "importing" not in said, lines  # nothing read or written again


@pytest.mark.parametrize("kind", ["ingest", "pipeline"])
def test_a_run_the_reaper_ends_from_its_version_reports_the_versions_figures(
    client: TestClient, parts: Engine_, kind: str
) -> None:
    """The run ended SUCCEEDED with the progress its lost attempt last heartbeat (40 %, 2 rows of 4): the run page,
    and the rows the metrics count for it (run_facts reads progress), disagreed with the version it ended from."""
    run_id, dataset_id = _published_run(client, parts, kind)
    _lost_after_publishing(parts, run_id, max_retries=0)
    with parts.engine.begin() as connection:  # its last heartbeat, before it wrote its last rows
        connection.execute(
            text(
                """UPDATE runs SET progress = '{"rows": 2, "rows_out": 2, "bytes": 9, "percent": 40}' WHERE id = :id"""
            ),
            {"id": run_id},
        )

    assert parts.reaper.reap_lost() == 1

    run = client.get(f"/api/v1/runs/{run_id}").json()
    rows = client.get(f"/api/v1/datasets/{dataset_id}").json()["row_count"]
    assert (run["status"], run["progress"]["percent"]) == ("SUCCEEDED", 100.0), run
    assert run["progress"].get("rows", run["progress"].get("rows_out")) == rows, run
    with parts.engine.connect() as connection:
        counted = connection.execute(
            text("SELECT rows_processed FROM run_facts WHERE run_id = :id"), {"id": run_id}
        ).scalar_one()
    assert counted == rows
