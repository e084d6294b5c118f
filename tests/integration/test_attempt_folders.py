"""Each attempt of a run writes its version's files in its own folder: an attempt given up on (its lease lapsed, the
reaper retried its run) that writes on never touches the files of the retry that won, readers read the winner's,
and the losing attempts' folders are removed, on a local data root and in S3."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from app.core.states import RunStatus
from app.paths import DATA_FILE, dataset_dir, dataset_prefix
from app.settings import Settings
from app.storage import store_for
from scheduler.attempt_sweep import GRACE, AttemptSweep
from tests.integration.engine_parts import Engine_, lapse_and_reap
from workers import pipeline_job

#: What the attempt given up on writes late: a row the pipeline never makes.
LATE = 666


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    """Each data root in turn: this host's disk, and a real S3-compatible store (SeaweedFS)."""
    if request.param == "local":
        return settings
    server = request.getfixturevalue("s3_server")
    monkeypatch = request.getfixturevalue("monkeypatch")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return msgspec.structs.replace(settings, data_root=server.root_url(), cache_dir=str(tmp_path / "host"))


def _run(client: TestClient, *, max_retries: int) -> str:
    """A run of a pipeline writing one row (n = 1) to its own output; its id."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    spec = {"steps": [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}], "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{output}", "spec": spec}).json()
    run: str = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": max_retries}).json()["id"]
    return run


def _run_prefix(dataset_id: uuid.UUID, run_id: str) -> str:
    """Where the store keeps the files of the run's version: a folder of each attempt's (`a1`, `a2`, ...)."""
    return f"{dataset_prefix(dataset_id)}/runs/{run_id}"


def _run_dir(parts: Engine_, dataset_id: uuid.UUID, run_id: str) -> Path:
    """This host's folder of the run's version files (the store's own on a local root, else scratch)."""
    return dataset_dir(parts.settings.data_path, dataset_id) / "runs" / run_id


def _attempt_folders(parts: Engine_, dataset_id: uuid.UUID, run_id: str) -> list[str]:
    """What the run's version folder holds, in the store and on this host (an attempt's folder, or a file)."""
    prefix = _run_prefix(dataset_id, run_id)
    stored = {key[len(prefix) + 1 :].split("/")[0] for key in store_for(parts.settings.data_root).list(prefix)}
    local = _run_dir(parts, dataset_id, run_id)
    here = {p.name for p in local.iterdir()} if local.is_dir() else set()
    return sorted(stored | here)


def _output(client: TestClient, run_id: str) -> tuple[uuid.UUID, list[Any]]:
    run = client.get(f"/api/v1/runs/{run_id}").json()
    rows = client.get(f"/api/v1/datasets/{run['output_dataset_id']}/rows").json()["rows"]
    return uuid.UUID(run["output_dataset_id"]), rows


def test_an_attempt_given_up_on_that_writes_late_leaves_the_winning_attempts_files_alone(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both attempts wrote the same folder (and, on S3, the same objects): the first attempt, paused past its lease
    while the retry ran and published, woke and wrote its files over the published version's (its version row was
    refused, its files were not), so the dataset's rows and downloads were the loser's."""
    run_id = _run(client, max_retries=1)
    real = pipeline_job.data_files.publish_version
    seen: list[int] = []

    def first_pauses_past_its_lease(*args: Any, **kwargs: Any) -> Any:
        seen.append(len(seen) + 1)
        if len(seen) == 1:  # the first attempt, its files written: it pauses, and the retry runs meanwhile
            lapse_and_reap(parts, run_id)
            assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
            folder: Path = args[-1]
            pq.write_table(pa.table({"n": [LATE]}), folder / DATA_FILE)  # it writes on, late
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", first_pauses_past_its_lease)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is None  # the run was no longer the first attempt's

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["attempt"]) == ("SUCCEEDED", 2), run
    dataset_id, rows = _output(client, run_id)
    assert rows == [[1]]
    download = client.get(f"/api/v1/datasets/{dataset_id}/download", params={"format": "csv"}).text
    assert download.splitlines() == ['"n"', "1"]
    with parts.engine.connect() as connection:
        attempt = connection.execute(
            text("SELECT attempt FROM dataset_versions WHERE run_id = :id"), {"id": run_id}
        ).scalar_one()
    assert attempt == 2
    assert _attempt_folders(parts, dataset_id, run_id) == ["a2"]  # the loser removed its own when refused


def _killed_leaving_files(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch, run_id: str
) -> uuid.UUID:
    """The run's first attempt, its worker killed as it published its files, which it leaves behind (here and in the
    store); the run's output dataset."""
    real = pipeline_job.data_files.publish_version

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("killed")

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", killed)
    parts.relay.relay_once()
    with pytest.raises(SystemExit):
        parts.executor.execute(uuid.UUID(run_id))
    monkeypatch.setattr(pipeline_job.data_files, "publish_version", real)
    dataset_id = uuid.UUID(client.get(f"/api/v1/runs/{run_id}").json()["output_dataset_id"])
    # a kill runs nothing of the attempt's own end (SystemExit did): its files, as a real kill leaves them
    first = _run_dir(parts, dataset_id, run_id) / "a1"
    first.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"n": [LATE]}), first / DATA_FILE)
    key = f"{_run_prefix(dataset_id, run_id)}/a1/{DATA_FILE}"
    store_for(parts.settings.data_root).put_file(key, first / DATA_FILE)
    return dataset_id


def test_the_folder_a_killed_attempt_left_is_removed_by_the_attempt_after_it(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed as it wrote left its attempt's files for good; the retry that won removes them."""
    run_id = _run(client, max_retries=1)
    dataset_id = _killed_leaving_files(client, parts, monkeypatch, run_id)
    lapse_and_reap(parts, run_id)

    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    assert _output(client, run_id)[1] == [[1]]
    assert _attempt_folders(parts, dataset_id, run_id) == ["a2"]


def test_a_run_that_ends_without_a_version_leaves_no_attempt_folder(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its attempt's files (failed as they were published) stayed under the dataset for good."""
    run_id = _run(client, max_retries=0)

    def store_fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store refused the upload")

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", store_fails)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.FAILED
    dataset_id = uuid.UUID(client.get(f"/api/v1/runs/{run_id}").json()["output_dataset_id"])
    assert _attempt_folders(parts, dataset_id, run_id) == []


def test_the_reaper_ending_a_lost_run_removes_its_attempts_folders(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose last attempt was lost (killed as it wrote) ends FAILED worker_lost: nothing publishes any more,
    and the files it left are removed."""
    run_id = _run(client, max_retries=0)
    dataset_id = _killed_leaving_files(client, parts, monkeypatch, run_id)

    lapse_and_reap(parts, run_id)

    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "FAILED"
    assert _attempt_folders(parts, dataset_id, run_id) == []


def _killed_run(client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch) -> tuple[str, uuid.UUID]:
    """A run allowed one retry whose first attempt was killed leaving its files; the run and its output dataset."""
    run_id = _run(client, max_retries=1)
    return run_id, _killed_leaving_files(client, parts, monkeypatch, run_id)


def _swept(parts: Engine_, since: datetime) -> int:
    """Every pass of a sweep of the runs that ended since `since`, as if the grace period had passed; the attempts'
    folders removed."""
    sweep = AttemptSweep(engine=parts.engine, settings=parts.settings, since=since, batch=5)
    later = datetime.now(UTC) + GRACE
    removed = 0
    while (done := sweep.sweep_once(now=later))[0]:
        removed += done[1]
    return removed


def test_a_killed_attempts_folder_is_removed_once_its_run_is_cancelled_while_waiting_for_its_retry(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel ended the run with no later attempt to remove the folder and no reaper to end it: it stayed."""
    run_id, dataset_id = _killed_run(client, parts, monkeypatch)
    with parts.engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
    assert parts.reaper.reap_lost() == 1  # the lost attempt is retried, later
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "RETRYING"
    assert client.post(f"/api/v1/runs/{run_id}/cancel").json()["status"] == "CANCELLED"
    assert _attempt_folders(parts, dataset_id, run_id) == ["a1"]  # the API does no file work

    with parts.engine.begin() as connection:  # it ended past the sweep's grace period
        ended = connection.execute(
            text("UPDATE runs SET finished_at = finished_at - :grace WHERE id = :id RETURNING finished_at"),
            {"id": run_id, "grace": GRACE + timedelta(seconds=1)},
        ).scalar_one()
    # the reaper's housekeeping sweeps (from just before the run ended, not a day of the shared database's runs)
    parts.reaper.attempt_sweep = AttemptSweep(
        engine=parts.engine, settings=parts.settings, since=ended - timedelta(milliseconds=1)
    )
    parts.reaper.housekeeping()
    assert _attempt_folders(parts, dataset_id, run_id) == []


def test_the_sweep_keeps_the_folder_the_version_row_names(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that published from its second attempt, with its killed first attempt's folder left (the store failed
    when the second tried to remove it): the sweep removes that one, never the published one's."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    run_id, dataset_id = _killed_run(client, parts, monkeypatch)
    lapse_and_reap(parts, run_id)
    with monkeypatch.context() as patched:
        patched.setattr("app.domain.files.drop_attempts_quietly", lambda *args, **kwargs: None)
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    assert _attempt_folders(parts, dataset_id, run_id) == ["a1", "a2"]

    _swept(parts, since)
    assert _attempt_folders(parts, dataset_id, run_id) == ["a2"]
    assert _output(client, run_id)[1] == [[1]]
    assert _swept(parts, since) == 0  # nothing more to remove, the version's files kept


def test_a_sweep_pass_looks_at_a_bounded_batch_of_runs(client: TestClient, parts: Engine_) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    for _ in range(3):
        run_id = _run(client, max_retries=0)
        parts.relay.relay_once()
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    sweep = AttemptSweep(engine=parts.engine, settings=parts.settings, since=since, batch=2)
    later = datetime.now(UTC) + GRACE
    assert sweep.sweep_once(now=later)[0] == 2
    assert sweep.sweep_once(now=later)[0] >= 1  # on from where the pass before stopped
    assert sweep.sweep_once(now=datetime.now(UTC))[0] == 0  # runs that ended within the grace period wait
