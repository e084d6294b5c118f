"""Each attempt of a run writes its version's files in its own folder: an attempt given up on (its lease lapsed, the
reaper retried its run) that writes on never touches the files of the retry that won, readers read the winner's,
and the losing attempts' folders are removed, on a local data root and in S3."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from app.core.states import RunStatus
from app.paths import DATA_FILE
from scheduler.attempt_sweep import GRACE, AttemptSweep
from tests.integration.attempt_support import (
    LATE,
    attempt_folders,
    killed_leaving_files,
    killed_run,
    output_of,
    settings,  # noqa: F401  (each data root in turn)
    start_run,
    sweep_all,
)
from tests.integration.engine_parts import Engine_, lapse_and_reap
from workers import pipeline_job


def test_an_attempt_given_up_on_that_writes_late_leaves_the_winning_attempts_files_alone(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both attempts wrote the same folder (and, on S3, the same objects): the first attempt, paused past its lease
    while the retry ran and published, woke and wrote its files over the published version's (its version row was
    refused, its files were not), so the dataset's rows and downloads were the loser's."""
    run_id = start_run(client, max_retries=1)
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
    dataset_id, rows = output_of(client, run_id)
    assert rows == [[1]]
    download = client.get(f"/api/v1/datasets/{dataset_id}/download", params={"format": "csv"}).text
    assert download.splitlines() == ['"n"', "1"]
    with parts.engine.connect() as connection:
        attempt = connection.execute(
            text("SELECT attempt FROM dataset_versions WHERE run_id = :id"), {"id": run_id}
        ).scalar_one()
    assert attempt == 2
    assert attempt_folders(parts, dataset_id, run_id) == ["a2"]  # the loser removed its own when refused


def test_the_folder_a_killed_attempt_left_is_removed_by_the_attempt_after_it(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed as it wrote left its attempt's files for good; the retry that won removes them."""
    run_id = start_run(client, max_retries=1)
    dataset_id = killed_leaving_files(client, parts, monkeypatch, run_id)
    lapse_and_reap(parts, run_id)

    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    assert output_of(client, run_id)[1] == [[1]]
    assert attempt_folders(parts, dataset_id, run_id) == ["a2"]


def test_a_run_that_ends_without_a_version_leaves_no_attempt_folder(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its attempt's files (failed as they were published) stayed under the dataset for good."""
    run_id = start_run(client, max_retries=0)

    def store_fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store refused the upload")

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", store_fails)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.FAILED
    dataset_id = uuid.UUID(client.get(f"/api/v1/runs/{run_id}").json()["output_dataset_id"])
    assert attempt_folders(parts, dataset_id, run_id) == []


def test_the_reaper_ending_a_lost_run_removes_its_attempts_folders(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose last attempt was lost (killed as it wrote) ends FAILED worker_lost: nothing publishes any more,
    and the files it left are removed."""
    run_id = start_run(client, max_retries=0)
    dataset_id = killed_leaving_files(client, parts, monkeypatch, run_id)

    lapse_and_reap(parts, run_id)

    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "FAILED"
    assert attempt_folders(parts, dataset_id, run_id) == []


def test_a_killed_attempts_folder_is_removed_once_its_run_is_cancelled_while_waiting_for_its_retry(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel ended the run with no later attempt to remove the folder and no reaper to end it: it stayed."""
    run_id, dataset_id = killed_run(client, parts, monkeypatch)
    with parts.engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
    assert parts.reaper.reap_lost() == 1  # the lost attempt is retried, later
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "RETRYING"
    assert client.post(f"/api/v1/runs/{run_id}/cancel").json()["status"] == "CANCELLED"
    assert attempt_folders(parts, dataset_id, run_id) == ["a1"]  # the API does no file work

    with parts.engine.begin() as connection:  # it ended past the sweep's grace period
        ended = connection.execute(
            text("UPDATE runs SET finished_at = finished_at - :grace WHERE id = :id RETURNING finished_at"),
            {"id": run_id, "grace": GRACE + timedelta(seconds=1)},
        ).scalar_one()
    # the reaper's housekeeping sweeps (from just before the run ended, not a day of the shared database's runs)
    parts.reaper.attempt_sweep.start_from(ended - timedelta(milliseconds=1))
    parts.reaper.housekeeping()
    assert attempt_folders(parts, dataset_id, run_id) == []


def test_the_sweep_keeps_the_folder_the_version_row_names(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that published from its second attempt, with its killed first attempt's folder left (the store failed
    when the second tried to remove it): the sweep removes that one, never the published one's."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    run_id, dataset_id = killed_run(client, parts, monkeypatch)
    lapse_and_reap(parts, run_id)
    with monkeypatch.context() as patched:
        patched.setattr("app.domain.files.drop_attempts_quietly", lambda *args, **kwargs: None)
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    assert attempt_folders(parts, dataset_id, run_id) == ["a1", "a2"]

    sweep_all(parts, since)
    assert attempt_folders(parts, dataset_id, run_id) == ["a2"]
    assert output_of(client, run_id)[1] == [[1]]
    assert sweep_all(parts, since) == 0  # nothing more to remove, the version's files kept


def test_a_sweep_pass_looks_at_a_bounded_batch_of_runs(client: TestClient, parts: Engine_) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    for _ in range(3):
        run_id = start_run(client, max_retries=0)
        parts.relay.relay_once()
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
    sweep = AttemptSweep(engine=parts.engine, settings=parts.settings, batch=2)
    sweep.start_from(since)
    later = datetime.now(UTC) + GRACE
    assert sweep.sweep_once(now=later)[0] == 2
    assert sweep.sweep_once(now=later)[0] >= 1  # on from where the pass before stopped
    assert sweep.sweep_once(now=datetime.now(UTC))[0] == 0  # runs that ended within the grace period wait
