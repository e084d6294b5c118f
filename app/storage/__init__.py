"""The data root as an object store: one interface, a local-disk backend (the default) and an S3 backend.

Every component reads and writes files under the data root through `Store`, by
keys that app.paths builds from ids, so the same code runs on one machine or on
hosts that share no disk.
"""

from app.storage.base import Store, Writer
from app.storage.errors import ObjectMissing, StoreMisconfigured, StoreUnavailable
from app.storage.open import open_store, store_for

__all__ = [
    "ObjectMissing",
    "Store",
    "StoreMisconfigured",
    "StoreUnavailable",
    "Writer",
    "open_store",
    "store_for",
]
