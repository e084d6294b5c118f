"""Every file path and store key under the data root is built here, from ids, and checked to stay inside it.

`*_key` functions give the `/`-separated key an object lives under in the store
(app.storage), on disk or in S3; `*_dir`/`*_path` give the same place as a local
path under a directory root.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path

#: A dataset version's rows, in its version folder (see `version_dir`).
DATA_FILE = "data.parquet"
#: The rows a lenient import refused, beside DATA_FILE.
REJECTS_FILE = "rejects.parquet"


class UnsafePath(ValueError):
    """A built path would leave the data root: a bug or an attack, never allowed."""


@functools.cache
def resolved_root(root: Path) -> Path:
    """The data root as an absolute, symlink-free path (resolved once per process)."""
    return root.resolve()


def under_root(root: Path, *parts: str) -> Path:
    """`root/parts...`, refusing anything that resolves outside `root` (symlinks included)."""
    base = resolved_root(root)
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise UnsafePath(f"{path} is outside the data root {base}")
    return path


def _id_part(part: str) -> str:
    """A path component made from an id: no separators, no `..`, nothing empty."""
    if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
        raise UnsafePath(f"{part!r} is not a safe path component")
    return part


def key(*parts: str) -> str:
    """The one place a store key is made: safe components joined by `/` (no `..`, no separators inside)."""
    return "/".join(_id_part(part) for part in parts)


def _fanned(kind: str, some_id: uuid.UUID) -> list[str]:
    """`kind/<last two hex digits>/<id>`: ids spread over 256 folders, never a user string."""
    text = str(uuid.UUID(str(some_id)))
    return [kind, text[-2:], text]


def upload_prefix(upload_id: uuid.UUID) -> str:
    """Every object of one upload (its `data` and, while resumable, its received chunks)."""
    return key(*_fanned("uploads", upload_id))


def upload_key(upload_id: uuid.UUID) -> str:
    """An upload's raw bytes."""
    return key(*_fanned("uploads", upload_id), "data")


def upload_assembled_key(upload_id: uuid.UUID) -> str:
    """What a resumable upload's `data` was last made of on S3 (its chunks) and its SHA-256, until finish."""
    return key(*_fanned("uploads", upload_id), "assembled")


def upload_chunk_key(upload_id: uuid.UUID, start: int, tag: str) -> str:
    """One received byte range of a resumable upload, from `start` (its size is the object's), kept until finish."""
    return key(*_fanned("uploads", upload_id), "chunks", f"{int(start):015d}-{tag}")


def dataset_prefix(dataset_id: uuid.UUID) -> str:
    """Every object of one dataset's versions."""
    return key(*_fanned("datasets", dataset_id))


def _run_parts(dataset_id: uuid.UUID, run_id: uuid.UUID) -> list[str]:
    return [*_fanned("datasets", dataset_id), "runs", str(uuid.UUID(str(run_id)))]


def runs_files_prefix(dataset_id: uuid.UUID) -> str:
    """Every run's version files of one dataset, a folder a run (`run_files_prefix`), in the order of the run ids."""
    return key(*_fanned("datasets", dataset_id), "runs")


def run_files_prefix(dataset_id: uuid.UUID, run_id: uuid.UUID) -> str:
    """Every attempt's files of the version a run writes (see `version_key`)."""
    return key(*_run_parts(dataset_id, run_id))


def attempt_part(attempt: int | None) -> list[str]:
    """The path component of one attempt's folder: `a<n>`; none for a version written before attempts had their own
    folders (its `attempt` is null), whose files sit in the run's folder itself."""
    if attempt is None:
        return []
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise UnsafePath(f"{attempt!r} is not an attempt number")
    return [f"a{attempt}"]


def attempt_of(part: str) -> int | None:
    """The attempt an `attempt_part` names, or None for anything else."""
    return int(part[1:]) if part.startswith("a") and part[1:].isdigit() else None


def attempt_prefix(dataset_id: uuid.UUID, run_id: uuid.UUID, attempt: int) -> str:
    """Every file one attempt of a run wrote for its version (see `version_key`)."""
    return key(*_run_parts(dataset_id, run_id), *attempt_part(attempt))


def version_key(dataset_id: uuid.UUID, run_id: uuid.UUID, name: str, attempt: int | None) -> str:
    """A file (DATA_FILE or REJECTS_FILE) of the version an attempt of a run writes, in that attempt's own folder:
    an attempt given up on (its lease lapsed) that writes on never touches the files of the attempt that replaced
    it. `attempt` None: a version written before (dataset_versions.attempt null)."""
    if name not in (DATA_FILE, REJECTS_FILE):
        raise UnsafePath(f"{name!r} is not a version file")
    return key(*_run_parts(dataset_id, run_id), *attempt_part(attempt), name)


def run_dir(root: Path, run_id: uuid.UUID) -> Path:
    """Folder of one run's files, fanned out by the id's last two hex digits.

    Built only from a UUID, so it cannot leave the root; no filesystem call is
    needed (this is on every run's hot path).
    """
    text = str(uuid.UUID(str(run_id)))
    return resolved_root(root) / "runs" / _id_part(text[-2:]) / _id_part(text)


def run_log_path(root: Path, run_id: uuid.UUID) -> Path:
    """The run's persisted log: one JSON object per line, across all attempts."""
    return run_dir(root, run_id) / "log.ndjson"


def upload_dir(root: Path, upload_id: uuid.UUID) -> Path:
    """Folder of one upload: its raw bytes (`data`), written in place, range by range."""
    text = str(uuid.UUID(str(upload_id)))
    return resolved_root(root) / "uploads" / _id_part(text[-2:]) / _id_part(text)


def upload_data_path(root: Path, upload_id: uuid.UUID) -> Path:
    return upload_dir(root, upload_id) / "data"


def dataset_dir(root: Path, dataset_id: uuid.UUID) -> Path:
    """Folder of one dataset's versions."""
    text = str(uuid.UUID(str(dataset_id)))
    return resolved_root(root) / "datasets" / _id_part(text[-2:]) / _id_part(text)


def run_files_dir(root: Path, dataset_id: uuid.UUID, run_id: uuid.UUID) -> Path:
    """Folder of every attempt's files of the version a run writes (each attempt in its own, `version_dir`)."""
    return dataset_dir(root, dataset_id) / "runs" / _id_part(str(uuid.UUID(str(run_id))))


def version_dir(root: Path, dataset_id: uuid.UUID, run_id: uuid.UUID, attempt: int | None) -> Path:
    """Folder of the version an attempt of a run writes (`data.parquet`, `rejects.parquet`): named by the run and
    the attempt, so an attempt's output is complete before any version row points at it, and an attempt given up
    on that writes on (its worker paused past its lease) never mixes into its retry's files."""
    return run_files_dir(root, dataset_id, run_id).joinpath(*attempt_part(attempt))
