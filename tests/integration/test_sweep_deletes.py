"""The attempt-folder sweep removes a given-up attempt's objects from S3 in bulk, against the real SeaweedFS: one
DeleteObjects request per 1,000 objects, where it sent a request per object (obstore sends even one key as a
DeleteObjects of one; a folder of thousands of files was thousands of requests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from app.domain import files
from app.paths import attempt_prefix, run_files_prefix
from app.settings import Settings
from app.storage.s3 import S3Store
from tests.s3proxy import FaultProxy
from tests.s3server import SeaweedS3


@pytest.fixture
def counted(s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[S3Store, FaultProxy]]:
    """The S3 store app.domain.files uses, reached through a proxy that records every request."""
    proxy = FaultProxy(s3_server.s3_port, parts_ok=1 << 30)
    store = S3Store(s3_server.root_url(), s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
    monkeypatch.setattr(files, "store", lambda _settings: store)
    yield store, proxy
    proxy.stop()


def _fill(store: S3Store, dataset_id: uuid.UUID, run_id: uuid.UUID, attempt: int, count: int) -> None:
    for index in range(count):
        store.put(f"{attempt_prefix(dataset_id, run_id, attempt)}/part-{index}", b"x")


def _delete_requests(proxy: FaultProxy) -> list[str]:
    return [method for method, path in proxy.requests if method == "DELETE" or path.endswith("?delete")]


def test_dropping_an_attempts_folder_of_50_objects_is_one_delete_request(
    settings: Settings, counted: tuple[S3Store, FaultProxy]
) -> None:
    store, proxy = counted
    dataset_id, run_id = uuid.uuid4(), uuid.uuid4()
    # Given a given-up attempt's 50 objects and the winning attempt's 2
    _fill(store, dataset_id, run_id, 1, 50)
    _fill(store, dataset_id, run_id, 2, 2)
    proxy.requests.clear()
    # When the attempts before the second are dropped
    assert files.drop_attempts(settings, dataset_id, run_id, before=2, keep=None) == 1
    # Then one DeleteObjects request removed the 50 (it was 50 requests), and the winner's files are left
    assert _delete_requests(proxy) == ["POST"]
    assert len(list(store.list(run_files_prefix(dataset_id, run_id)))) == 2


def test_the_sweep_of_several_runs_deletes_their_objects_in_one_request(
    settings: Settings, counted: tuple[S3Store, FaultProxy]
) -> None:
    store, proxy = counted
    dataset_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for run_id in (first, second):
        _fill(store, dataset_id, run_id, 1, 25)
        _fill(store, dataset_id, run_id, 2, 1)
    proxy.requests.clear()
    runs = [(first, 2, None), (second, 2, None)]
    assert files.drop_runs_attempts(settings, dataset_id, runs) == 2
    assert _delete_requests(proxy) == ["POST"]
    for run_id in (first, second):
        assert len(list(store.list(run_files_prefix(dataset_id, run_id)))) == 1
