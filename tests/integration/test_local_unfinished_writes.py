"""On a local data root, the temporaries of writes a killed process left are removed by cleanup once old enough."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from sqlalchemy import Engine

from app.settings import Settings
from app.storage.local import LocalStore
from scheduler.cleanup import Cleanup

#: The cleanup pass's clock: files are dated against it, so nothing waits for real time to pass.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _dated(path: Path, when: datetime) -> Path:
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _killed_write(store: LocalStore, key: str, when: datetime) -> Path:
    """What a process killed (SIGKILL) in the middle of writing `key` leaves: the temporary, never renamed."""
    writer = store.writer(key).__enter__()
    writer.write(b"half of it")
    assert writer._file is not None
    writer._file.close()  # as the kernel does for a killed process: no rename, no unlink
    return _dated(writer.temp, when)


def test_cleanup_removes_stale_temporaries_and_leaves_fresh_ones_and_objects(
    settings: Settings, engine: Engine
) -> None:
    store = LocalStore(Path(settings.data_root))
    age = timedelta(hours=settings.multipart_upload_max_age_hours)
    # Given real objects (one of them old), a temporary left by a write killed more than the bound ago,
    # and one of a write that is younger than the bound (still going, as far as anyone can tell)
    store.put("datasets/aa/old/data.parquet", b"kept")
    old_object = _dated(store.path("datasets/aa/old/data.parquet"), NOW - 3 * age)
    store.put("uploads/bb/new/data", b"kept too")
    stale = _killed_write(store, "datasets/aa/killed/data.parquet", NOW - age - timedelta(minutes=1))
    fresh = _killed_write(store, "uploads/bb/going/data", NOW - age + timedelta(minutes=1))

    # When the cleanup job passes
    done = Cleanup(engine=engine, settings=settings).run_once(NOW)

    # Then only the stale temporary is gone; the objects and the fresh temporary are untouched
    assert done["unfinished_writes"] == 1
    assert not stale.exists()
    assert fresh.read_bytes() == b"half of it"
    assert old_object.read_bytes() == b"kept"
    assert store.get("uploads/bb/new/data") == b"kept too"
    assert sorted(store.list("datasets")) + sorted(store.list("uploads")) == [
        "datasets/aa/old/data.parquet",
        "uploads/bb/new/data",
    ]

    # And a day later the other temporary has gone stale too, and goes
    later = Cleanup(engine=engine, settings=settings).run_once(NOW + timedelta(days=1))
    assert later["unfinished_writes"] == 1
    assert not fresh.exists()
    assert store.get("uploads/bb/new/data") == b"kept too"


def test_a_bound_of_zero_keeps_temporaries(settings: Settings, engine: Engine) -> None:
    store = LocalStore(Path(settings.data_root))
    stale = _killed_write(store, "uploads/cc/killed/data", NOW - timedelta(days=30))
    never = msgspec.structs.replace(settings, multipart_upload_max_age_hours=0)
    assert Cleanup(engine=engine, settings=never).run_once(NOW)["unfinished_writes"] == 0
    assert stale.exists()
