"""The data root for the domain: the process's store, and local files for the engines that need paths.

DuckDB and the readers work on local files. On a local data root they get the
store's own files; on S3 inputs come through this host's LRU cache and outputs
are written in this host's scratch folder and uploaded before any row points at
them: after they are written (`publish`), or while DuckDB writes them (`data_stream`).
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from app.paths import DATA_FILE, REJECTS_FILE, resolved_root, upload_key, version_key
from app.settings import Settings
from app.storage import Store, store_for
from app.storage.cache import LocalCache
from app.storage.ranged import RangedFile
from app.storage.streamed_output import StreamedOutput


def store(settings: Settings) -> Store:
    return store_for(settings.data_root)


def local_input(settings: Settings, key: str) -> Path:
    """A local file with the object at `key` (a completed upload or a dataset version: immutable)."""
    return LocalCache(settings.cache_path, int(settings.cache_max_gb * 1024**3)).path(store(settings), key)


def scratch_dir(settings: Settings, label: str) -> Path:
    """A fresh folder on this host for one job's outputs before they are published."""
    path = resolved_root(settings.data_path) / "tmp" / f"{label}-{uuid.uuid4().hex}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def output_dir(settings: Settings, final_key_dir: Path | None, label: str) -> Path:
    """Where a job writes its output files: the final folder on a local data root, else scratch."""
    if not settings.data_in_store and final_key_dir is not None:
        return final_key_dir
    return scratch_dir(settings, label)


def publish(settings: Settings, key: str, local: Path) -> None:
    """Make the object at `key` hold `local` (nothing to do when `local` already is the store's file)."""
    target = store(settings)
    own = target.local_path(key)
    if own is not None and own == local.resolve():
        return
    target.put_file(key, local)


def keep_version_cached(settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, folder: Path) -> None:
    """On an S3 data root, keep a version's data file this host just published in its cache (readers here, e.g.
    a pipeline over the version just imported, skip the download); call it once the version's row is written."""
    local = folder / DATA_FILE
    if settings.data_in_store and local.is_file():
        cache = LocalCache(settings.cache_path, int(settings.cache_max_gb * 1024**3))
        cache.adopt(version_key(dataset_id, run_id, DATA_FILE), local)


def drop_scratch(settings: Settings, folder: Path) -> None:
    """Remove a scratch folder (never the store's own folders on a local data root)."""
    if settings.data_in_store:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def data_stream(settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID) -> Iterator[StreamedOutput | None]:
    """A version's data file sent to the store while DuckDB writes it (None on a local data root: written in
    place). The object is complete when the block exits cleanly, so publish inside it and write the row after;
    an error in the block aborts the upload."""
    if not settings.data_in_store:
        yield None
        return
    with StreamedOutput(store(settings), version_key(dataset_id, run_id, DATA_FILE)) as output:
        yield output


def publish_version(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, folder: Path, *, data_streamed: bool = False
) -> None:
    """Upload a version's files (data, and rejects when there are any) before its row is written.
    `data_streamed`: the data file went out as it was written (`data_stream`): only the rejects are left."""
    if not settings.data_in_store:
        return  # written in place, under the data root
    target = store(settings)
    for name in (DATA_FILE, REJECTS_FILE):
        local = folder / name
        if name == DATA_FILE and data_streamed:
            continue
        if local.is_file():
            target.put_file(version_key(dataset_id, run_id, name), local)
        else:
            target.delete(version_key(dataset_id, run_id, name))  # from an earlier attempt: no longer true


def discard_version(settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, folder: Path) -> None:
    """Remove the files publish_version sent out for a version whose row was refused (its dataset was deleted)."""
    target = store(settings)
    for name in (DATA_FILE, REJECTS_FILE):
        target.delete(version_key(dataset_id, run_id, name))
    shutil.rmtree(folder, ignore_errors=True)  # this run's own folder: scratch, or the version's on a local root


def version_file(settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, name: str = DATA_FILE) -> Path:
    """A local file with a version's data (or rejects): in place on a local root, else via the LRU cache."""
    return local_input(settings, version_key(dataset_id, run_id, name))


def upload_file(settings: Settings, upload_id: uuid.UUID) -> Path:
    """A local file with a completed upload's bytes."""
    return local_input(settings, upload_key(upload_id))


#: Bytes of an upload that checking its format at `complete` may fetch from S3 inside the request: its head, and of
#: a workbook its directory and a small member or two (the sniff reads no more from a real file).
SNIFF_READ_BUDGET = 16 << 20


def upload_head(settings: Settings, upload_id: uuid.UUID, size: int) -> Path | RangedFile:
    """A completed upload to check the format of: its file in place on a local root; on S3 the object read by
    range requests, at most SNIFF_READ_BUDGET bytes (ReadBudgetExceeded past it), never downloaded whole."""
    target = store(settings)
    key = upload_key(upload_id)
    own = target.local_path(key)
    if own is not None:
        return own
    return RangedFile(target, key, size, budget=SNIFF_READ_BUDGET)
