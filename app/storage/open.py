"""Choose the backend from CONVEYOR_DATA_ROOT: `s3://bucket/prefix` or a local directory."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from app.storage.base import Store
from app.storage.local import LocalStore
from app.storage.s3 import S3Store


def is_s3(data_root: str) -> bool:
    return data_root.startswith("s3://")


def open_store(data_root: str) -> Store:
    """A new store for `data_root` (S3 settings from the standard AWS variables)."""
    if is_s3(data_root):
        bucket = data_root.removeprefix("s3://").partition("/")[0]
        if not 3 <= len(bucket) <= 63:
            raise ValueError(f"CONVEYOR_DATA_ROOT: bucket name {bucket!r} must have 3 to 63 characters")
        return S3Store(data_root)
    return LocalStore(Path(data_root))


@functools.cache
def _cached(data_root: str, endpoint: str) -> Store:
    return open_store(data_root)


def store_for(data_root: str) -> Store:
    """The process's store for `data_root`, made once (clients hold connection pools)."""
    key = data_root if is_s3(data_root) else str(Path(data_root).resolve())
    return _cached(key, os.environ.get("AWS_ENDPOINT_URL", ""))
