"""The attempt-folder sweep and the attempts' own cleanup find every folder a run's attempts left that no version row
names, on a local data root and in S3: under the output a run retried by hand gave up, too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from app.core.states import RunStatus
from app.db.queries import query
from app.storage import store_for
from scheduler.attempt_sweep import GRACE, LATE, PASSES, AttemptSweep
from tests.integration.attempt_support import (
    attempt_folders,
    killed_leaving_files,
    output_of,
    settings,  # noqa: F401  (each data root in turn)
    start_run,
    sweep_all,
    write_late,
)
from tests.integration.engine_parts import Engine_, lapse_and_reap
from workers import pipeline_job


def _killed_then_cancelled(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch, run_id: str
) -> uuid.UUID:
    """The run's first attempt killed leaving its folder, the run retried by the reaper and cancelled while it waited
    (the API does no file work: the folder stays); its output."""
    dataset_id = killed_leaving_files(client, parts, monkeypatch, run_id)
    lapse_and_reap(parts, run_id)
    assert client.post(f"/api/v1/runs/{run_id}/cancel").json()["status"] == "CANCELLED"
    assert attempt_folders(parts, dataset_id, run_id) == ["a1"]
    return dataset_id


def test_the_sweep_removes_the_folder_left_under_the_output_a_run_retried_by_hand_gave_up(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry by hand set the run's output to null, and the sweep only looked under a run's output: a run cancelled
    again before its new attempt started kept the killed attempt's folder for good."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    run_id = start_run(client, max_retries=1)
    dataset_id = _killed_then_cancelled(client, parts, monkeypatch, run_id)
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 202
    cancelled = client.post(f"/api/v1/runs/{run_id}/cancel").json()
    assert (cancelled["status"], cancelled["output_dataset_id"]) == ("CANCELLED", None), cancelled

    assert sweep_all(parts, since) == 1
    assert attempt_folders(parts, dataset_id, run_id) == []


def test_the_attempt_after_a_retry_by_hand_removes_the_folder_left_under_the_output_it_gave_up(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output's name renders from the start time, so the attempt after the retry writes another dataset: it
    removed its run's earlier attempts' folders only under that one."""
    run_id = start_run(client, max_retries=1, output=f"o{uuid.uuid4().hex[:6]}-{{{{ run.started_at }}}}")
    first = _killed_then_cancelled(client, parts, monkeypatch, run_id)
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 202
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED

    second, rows = output_of(client, run_id)
    assert second != first
    assert rows == [[1]]
    assert attempt_folders(parts, second, run_id) == ["a2"]
    assert attempt_folders(parts, first, run_id) == []


def test_the_reaper_ending_a_run_retried_by_hand_removes_the_folder_left_under_the_output_it_gave_up(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reaper, ending a lost run, removed its attempts' folders only under the run's output: not under the one it
    gave up when retried by hand (its name renders from the start time, so the new attempt wrote another)."""
    run_id = start_run(client, max_retries=0, output=f"o{uuid.uuid4().hex[:6]}-{{{{ run.started_at }}}}")
    first = killed_leaving_files(client, parts, monkeypatch, run_id)
    lapse_and_reap(parts, run_id)  # ended FAILED, its folder removed
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 202
    second = killed_leaving_files(client, parts, monkeypatch, run_id)
    assert second != first
    write_late(parts, first, run_id, 1)  # the first attempt, paused all along, writes on, and is killed
    assert attempt_folders(parts, first, run_id) == ["a1"]

    lapse_and_reap(parts, run_id)
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "FAILED"
    assert attempt_folders(parts, second, run_id) == []
    assert attempt_folders(parts, first, run_id) == []


def _succeeded_runs(client: TestClient, parts: Engine_, count: int) -> None:
    for _ in range(count):
        run_id = start_run(client, max_retries=0)
        parts.relay.relay_once()
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED


def test_a_scheduler_that_restarts_sweeps_on_from_where_the_last_pass_stopped(
    client: TestClient, parts: Engine_
) -> None:
    """The position was the process's: a scheduler that restarted went over the runs of the day before again."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    _succeeded_runs(client, parts, 3)
    first = AttemptSweep(engine=parts.engine, settings=parts.settings, batch=2)
    first.start_from(since)
    later = datetime.now(UTC) + GRACE
    assert first.sweep_once(now=later)[0] == 2

    restarted = AttemptSweep(engine=parts.engine, settings=parts.settings)  # a new process, the same database
    assert restarted.sweep_once(now=later)[0] == 1  # the third run only
    assert restarted.sweep_once(now=later)[0] == 0


def test_while_one_scheduler_sweeps_another_scheduler_sweeps_nothing(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each scheduler went over every run (twice the listings); now the one that holds the position sweeps."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    run_id = start_run(client, max_retries=1)
    dataset_id = _killed_then_cancelled(client, parts, monkeypatch, run_id)
    other = AttemptSweep(engine=parts.engine, settings=parts.settings)
    other.start_from(since)
    later = datetime.now(UTC) + GRACE

    with parts.engine.connect() as sweeping, sweeping.begin():  # the first scheduler's pass, going on
        for name in PASSES:
            assert sweeping.execute(query("claim_attempt_sweep"), {"pass": name}).first() is not None
        assert other.sweep_once(now=later) == (0, 0)
        assert attempt_folders(parts, dataset_id, run_id) == ["a1"]
    assert other.sweep_once(now=later) == (1, 1)  # the pass ended (without moving the position): on from it
    assert attempt_folders(parts, dataset_id, run_id) == []


class _CountedListings:
    """The data root's store, counting the listings asked of it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.listings = inner, 0

    def list(self, prefix: str) -> Any:
        self.listings += 1
        return self.inner.list(prefix)

    def list_after(self, prefix: str, after: str) -> Any:
        self.listings += 1
        return self.inner.list_after(prefix, after)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_sweep_pass_lists_the_store_once_per_dataset_and_not_for_runs_whose_only_attempt_published(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass listed the store once per ended run with a dataset: up to 100 listings a minute on S3."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    output = f"out-{uuid.uuid4().hex[:6]}"
    left = []
    for _ in range(3):  # three runs into one output, each with a killed attempt's folder left
        run_id = start_run(client, max_retries=1, output=output)
        left.append((run_id, _killed_then_cancelled(client, parts, monkeypatch, run_id)))
    published = start_run(client, max_retries=0, output=output)  # and one whose only attempt published
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(published)) is RunStatus.SUCCEEDED
    dataset_id = left[0][1]
    assert {d for _, d in left} == {dataset_id}
    assert output_of(client, published)[0] == dataset_id
    counted = _CountedListings(store_for(parts.settings.data_root))
    monkeypatch.setattr("app.domain.files.store", lambda _settings: counted)

    assert sweep_all(parts, since) == 3
    assert counted.listings == 1
    assert [attempt_folders(parts, dataset_id, run_id) for run_id, _ in left] == [[], [], []]
    assert attempt_folders(parts, dataset_id, published) == ["a1"]
    assert output_of(client, published)[1] == [[1]]


def test_files_an_attempt_given_up_on_wrote_after_the_sweep_went_by_are_removed_by_the_late_pass(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt, paused past its lease, woke after its retry had won and cleaned up and after the sweep had
    gone by its run, wrote its files and was killed before it learned it lost: nothing ever went by them again."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    sweep = AttemptSweep(engine=parts.engine, settings=parts.settings)
    sweep.start_from(since)
    run_id = start_run(client, max_retries=1)
    real = pipeline_job.data_files.publish_version
    ended: list[datetime] = []

    def first_pauses_past_its_lease(*args: Any, **kwargs: Any) -> Any:
        if args[3] == 2:  # the retry publishes as it would
            return real(*args, **kwargs)
        lapse_and_reap(parts, run_id)  # the first attempt's lease lapses: the retry runs, wins and cleans up
        assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.SUCCEEDED
        ended.append(datetime.fromisoformat(client.get(f"/api/v1/runs/{run_id}").json()["finished_at"]))
        assert sweep.sweep_once(now=ended[0] + GRACE + timedelta(seconds=1))[0] == 1  # the sweep goes by the run
        raise SystemExit("killed")  # the first attempt wakes, writes its files (below), and is killed

    monkeypatch.setattr(pipeline_job.data_files, "publish_version", first_pauses_past_its_lease)
    parts.relay.relay_once()
    with pytest.raises(SystemExit):
        parts.executor.execute(uuid.UUID(run_id))
    dataset_id, rows = output_of(client, run_id)
    write_late(parts, dataset_id, run_id, 1)  # a kill runs nothing of the attempt's own end: its files stay
    assert attempt_folders(parts, dataset_id, run_id) == ["a1", "a2"]

    assert sweep.sweep_once(now=ended[0] + LATE - timedelta(seconds=1)) == (0, 0)
    assert sweep.sweep_once(now=ended[0] + LATE + timedelta(seconds=1)) == (1, 1)
    assert attempt_folders(parts, dataset_id, run_id) == ["a2"]
    assert output_of(client, run_id)[1] == rows == [[1]]
