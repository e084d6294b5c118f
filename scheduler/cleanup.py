"""The cleanup job: removes the files of deleted datasets after the retention period, and of expired uploads.

Rows are claimed with SKIP LOCKED and marked in the same transaction as the
files are removed; removing files twice is harmless, so a crash in between
only means the next pass removes nothing more.
"""

from __future__ import annotations

import logging
import shutil

from sqlalchemy import Engine

from app.db.queries import query
from app.paths import dataset_dir, upload_dir
from app.settings import Settings

logger = logging.getLogger(__name__)

#: Datasets or uploads handled per pass.
BATCH = 100


class Cleanup:
    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def run_once(self) -> dict[str, int]:
        """One pass; returns how many datasets were purged and uploads expired."""
        root = self.settings.data_path
        with self.engine.begin() as connection:
            purgeable = connection.execute(
                query("purgeable_datasets"),
                {"retention_hours": self.settings.dataset_retention_hours, "batch": BATCH},
            ).all()
            for row in purgeable:
                shutil.rmtree(dataset_dir(root, row.id), ignore_errors=True)
                for upload_id in row.upload_ids or []:
                    shutil.rmtree(upload_dir(root, upload_id), ignore_errors=True)
            if purgeable:
                connection.execute(query("mark_datasets_purged"), {"ids": [row.id for row in purgeable]})
            expired = connection.execute(query("expire_uploads"), {"batch": BATCH}).scalars().all()
            for upload_id in expired:
                shutil.rmtree(upload_dir(root, upload_id), ignore_errors=True)
        if purgeable or expired:
            logger.info("cleanup: %d deleted datasets purged, %d uploads expired", len(purgeable), len(expired))
        return {"datasets": len(purgeable), "uploads": len(expired)}
