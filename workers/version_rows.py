"""The last step of an attempt that wrote a dataset version: its row, then this host's copies of its files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.db.outage import retry_while_unavailable
from app.domain import files
from app.domain.attempts import AttemptOver
from app.domain.datasets import DatasetDeleted
from app.settings import Settings


def record_version(
    own: files.AttemptFiles, record: Callable[[], int], *, what: str, settings: Settings, folder: Path
) -> int:
    """`record` the version the attempt's files in `folder` hold (tried again while the database is down: a finished
    write is not thrown away because the database restarted as it ended); its number. Then the data file is kept in
    this host's cache and the scratch folder dropped. A row refused (the dataset was deleted, or the attempt no longer
    runs its run) leaves the files to be removed with the attempt's folder; one whose fate is unknown keeps them."""
    assert own.dataset_id is not None, "an attempt that writes no dataset records no version"
    own.recording = True
    try:
        number = retry_while_unavailable(record, what=what, give_up_after=settings.database_wait_seconds)
    except (DatasetDeleted, AttemptOver):
        own.recording = False  # refused: no version names its files
        raise
    files.keep_version_cached(settings, own.dataset_id, own.run_id, own.attempt, folder)
    files.drop_scratch(settings, folder)
    return number
