"""Every file path under the data root is built here, from ids, and checked to stay inside it."""

from __future__ import annotations

import uuid
from pathlib import Path


class UnsafePath(ValueError):
    """A built path would leave the data root: a bug or an attack, never allowed."""


def under_root(root: Path, *parts: str) -> Path:
    """`root/parts...`, refusing anything that resolves outside `root`."""
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise UnsafePath(f"{path} is outside the data root {base}")
    return path


def run_dir(root: Path, run_id: uuid.UUID) -> Path:
    """Folder of one run's files; fanned out by the id's last two hex digits."""
    hex_id = run_id.hex
    return under_root(root, "runs", hex_id[-2:], str(run_id))


def run_log_path(root: Path, run_id: uuid.UUID) -> Path:
    """The run's persisted log: one JSON object per line, across all attempts."""
    return run_dir(root, run_id) / "log.ndjson"
