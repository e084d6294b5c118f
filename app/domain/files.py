"""The data root for the domain: the process's store, and local files for the engines that need paths.

DuckDB and the readers work on local files. On a local data root they get the
store's own files; on S3 inputs come through this host's LRU cache and outputs
are written in this host's scratch folder and uploaded before any row points at
them: after they are written (`publish`), or while DuckDB writes them (`data_stream`).

Each attempt of a run writes its version's files in its own folder (app.paths.version_dir, version_key), and the
version row names the attempt that published them, so readers read the files of the attempt that won. An attempt
that ends without publishing removes its folder (`discard_version`); every attempt, at its end, removes the
folders of the attempts before it (`drop_attempts`), which were given up on before it started.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.ingest import ImportConfig
from app.ingest.errors import LimitExceeded
from app.ingest.limits import limits_of
from app.ingest.sniff import Sniffed, sniff
from app.paths import (
    DATA_FILE,
    REJECTS_FILE,
    attempt_of,
    attempt_prefix,
    resolved_root,
    run_files_dir,
    run_files_prefix,
    runs_files_prefix,
    upload_key,
    version_dir,
    version_key,
)
from app.settings import Settings
from app.storage import Store, store_for
from app.storage.cache import LocalCache
from app.storage.ranged import RangedFile, ReadBudgetExceeded
from app.storage.streamed_output import StreamedOutput

logger = logging.getLogger(__name__)


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


def keep_version_cached(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, attempt: int, folder: Path
) -> None:
    """On an S3 data root, keep a version's data file this host just published in its cache (readers here, e.g.
    a pipeline over the version just imported, skip the download); call it once the version's row is written."""
    local = folder / DATA_FILE
    if settings.data_in_store and local.is_file():
        cache = LocalCache(settings.cache_path, int(settings.cache_max_gb * 1024**3))
        cache.adopt(version_key(dataset_id, run_id, DATA_FILE, attempt), local)


def drop_scratch(settings: Settings, folder: Path) -> None:
    """Remove a scratch folder (never the store's own folders on a local data root)."""
    if settings.data_in_store:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def data_stream(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, attempt: int
) -> Iterator[StreamedOutput | None]:
    """A version's data file sent to the store while DuckDB writes it (None on a local data root: written in
    place). The object is complete when the block exits cleanly, so publish inside it and write the row after;
    an error in the block aborts the upload."""
    if not settings.data_in_store:
        yield None
        return
    with StreamedOutput(store(settings), version_key(dataset_id, run_id, DATA_FILE, attempt)) as output:
        yield output


def publish_version(
    settings: Settings,
    dataset_id: uuid.UUID,
    run_id: uuid.UUID,
    attempt: int,
    folder: Path,
    *,
    data_streamed: bool = False,
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
            target.put_file(version_key(dataset_id, run_id, name, attempt), local)


def discard_version(settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, attempt: int) -> None:
    """Remove an attempt's files when no version row names them (refused: its dataset was deleted, or the attempt
    no longer ran its run; or never written): what it sent to the store, and its folder on this host (scratch, or
    the version's folder on a local root)."""
    store(settings).delete_prefix(attempt_prefix(dataset_id, run_id, attempt))
    shutil.rmtree(version_dir(settings.data_path, dataset_id, run_id, attempt), ignore_errors=True)


def _given_up(attempt: int | None, *, before: int, keep: int | None) -> bool:
    """Whether an attempt's folder is one to remove: numbered below `before`, and not `keep`'s (the attempt whose
    version was published; None: none was). None (files in the run's folder itself, from before attempts had folders)
    never is."""
    return attempt is not None and attempt < before and attempt != keep


def _drop_here(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, *, before: int, keep: int | None
) -> set[int | None]:
    """The run's attempts' folders to remove in this host's folder (the store's own on a local root); which."""
    found: set[int | None] = set()
    local = run_files_dir(settings.data_path, dataset_id, run_id)
    for folder in local.iterdir() if local.is_dir() else ():
        attempt = attempt_of(folder.name)
        if _given_up(attempt, before=before, keep=keep):
            shutil.rmtree(folder, ignore_errors=True)
            found.add(attempt)
    return found


def drop_attempts(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, *, before: int, keep: int | None
) -> int:
    """Remove the files of the run's attempts numbered below `before`, but `keep`'s (the attempt whose version was
    published; None: none was): those attempts were given up on before a later one started, so none of them can
    publish any more. In the store and in this host's folder; how many attempts' folders were found."""
    target = store(settings)
    prefix = run_files_prefix(dataset_id, run_id)
    found: set[int | None] = set()
    doomed: list[str] = []
    for stored in target.list(prefix):
        attempt = attempt_of(stored[len(prefix) + 1 :].split("/", 1)[0])
        if _given_up(attempt, before=before, keep=keep):
            doomed.append(stored)
            found.add(attempt)
    target.delete_many(doomed)  # DeleteObjects on S3: a request per 1,000 objects, not one each
    return len(found | _drop_here(settings, dataset_id, run_id, before=before, keep=keep))


#: One run's attempts to remove (`drop_attempts`' arguments): the run, `before`, `keep`.
RunAttempts = tuple[uuid.UUID, int, "int | None"]


def drop_runs_attempts(settings: Settings, dataset_id: uuid.UUID, runs: Sequence[RunAttempts]) -> int:
    """`drop_attempts` for several runs of one dataset, with one listing of the store: the dataset's runs' folders in
    key order, from the first of these runs' to the last's (runs in between are read, not touched). How many
    attempts' folders were found."""
    if not runs:
        return 0
    wanted = {str(run_id): (before, keep) for run_id, before, keep in runs}
    first, last = min(wanted), max(wanted)
    target = store(settings)
    prefix = runs_files_prefix(dataset_id)
    found: set[tuple[str, int | None]] = set()
    doomed: list[str] = []
    # after the first run's id cut by a character, not after the id itself: SeaweedFS reads StartAfter as a folder's
    # name and skips everything in that folder, where S3 starts inside it
    for stored in target.list_after(prefix, f"{prefix}/{first[:-1]}"):
        run, _, rest = stored[len(prefix) + 1 :].partition("/")
        if run > last:
            break
        if run in wanted:
            before, keep = wanted[run]
            attempt = attempt_of(rest.split("/", 1)[0])
            if _given_up(attempt, before=before, keep=keep):
                doomed.append(stored)
                found.add((run, attempt))
    target.delete_many(doomed)  # once the listing is read: in as few requests as the store allows
    for run_id, before, keep in runs:
        found |= {(str(run_id), a) for a in _drop_here(settings, dataset_id, run_id, before=before, keep=keep)}
    return len(found)


def drop_attempts_quietly(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, *, before: int, keep: int | None
) -> None:
    """`drop_attempts`, for a caller whose own outcome does not depend on it: a store that fails only leaves files no
    version row names (deleting the dataset removes them), and is logged."""
    try:
        drop_attempts(settings, dataset_id, run_id, before=before, keep=keep)
    except Exception as exc:
        logger.warning("could not remove the files of run %s's earlier attempts: %s", run_id, exc)


def version_file(
    settings: Settings, dataset_id: uuid.UUID, run_id: uuid.UUID, name: str = DATA_FILE, *, attempt: int | None
) -> Path:
    """A local file with a version's data (or rejects), of the attempt that published it (the version row's
    `attempt`): in place on a local root, else via the LRU cache."""
    return local_input(settings, version_key(dataset_id, run_id, name, attempt))


def upload_file(settings: Settings, upload_id: uuid.UUID) -> Path:
    """A local file with a completed upload's bytes."""
    return local_input(settings, upload_key(upload_id))


class AttemptFiles:
    """The folder one attempt writes its run's version in (`version_dir`, `version_key`), while the attempt runs.

    `recording` is set while the version's row is being written: if that fails for an unknown reason (the database
    went away), a row may name the files, so they are kept; the job clears it when the row was refused.
    """

    def __init__(
        self,
        settings: Settings,
        dataset_id: uuid.UUID | None,
        run_id: uuid.UUID,
        attempt: int,
        earlier: Sequence[uuid.UUID] = (),
    ) -> None:
        self.settings, self.dataset_id, self.run_id, self.attempt = settings, dataset_id, run_id, attempt
        #: the outputs the run gave up when it was retried by hand (app.domain.earlier_outputs)
        self.earlier = [dataset for dataset in earlier if dataset != dataset_id]
        self.recording = False

    @property
    def folder(self) -> Path:
        """This host's folder for the attempt's files (the version's own on a local root, else scratch)."""
        if self.dataset_id is None:
            raise ValueError("an attempt that writes no dataset has no version folder")
        return version_dir(self.settings.data_path, self.dataset_id, self.run_id, self.attempt)

    def _clean(self, *, discard: bool) -> None:
        """Remove the earlier attempts' files and, with `discard`, this one's; a store that fails here only leaves
        files no version row names (deleting the dataset removes them), never the attempt's outcome."""
        if self.dataset_id is None:
            return
        if discard:
            try:
                discard_version(self.settings, self.dataset_id, self.run_id, self.attempt)
            except Exception as exc:
                logger.warning("could not remove the files of run %s attempt %s: %s", self.run_id, self.attempt, exc)
        if self.attempt > 1:
            for dataset_id in (self.dataset_id, *self.earlier):
                drop_attempts_quietly(self.settings, dataset_id, self.run_id, before=self.attempt, keep=None)


@contextlib.contextmanager
def attempt_files(
    settings: Settings,
    dataset_id: uuid.UUID | None,
    run_id: uuid.UUID,
    attempt: int,
    earlier: Sequence[uuid.UUID] = (),
) -> Iterator[AttemptFiles]:
    """The attempt's own folder while its steps run: when they raise (a failure, a cancel, a refused version), its
    files are removed, since no version row names them; either way, those of the run's earlier attempts are (given up
    on before this one started, none of them publishes any more), also under `earlier`, the outputs the run gave up
    when it was retried by hand. `dataset_id` None: nothing is written, or kept."""
    own = AttemptFiles(settings, dataset_id, run_id, attempt, earlier)
    try:
        yield own
    except BaseException:
        own._clean(discard=not own.recording)
        raise
    own._clean(discard=False)


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


def upload_format(settings: Settings, upload_id: uuid.UUID, filename: str, size: int) -> Sniffed:
    """The format of an upload's stored bytes (`size` of them), checked inside the request that stored or completed
    it, for both upload routes: from `upload_head`, so on S3 by range requests, never a download of the object;
    413 `limit_exceeded` when a forged container would make the check fetch more than SNIFF_READ_BUDGET."""
    try:
        return sniff(upload_head(settings, upload_id, size), filename, ImportConfig(), limits_of(settings))
    except ReadBudgetExceeded as exc:  # a forged container whose directory is huge
        raise LimitExceeded(f"{exc}: its zip or OLE2 directory is far larger than any workbook's") from None
