"""The cleanup job: files of deleted datasets and expired uploads; finished runs' logs and rows, and finished
webhook deliveries, past retention; writes that killed processes left unfinished (multipart uploads on S3,
temporaries on a local disk).

Rows are claimed with SKIP LOCKED and marked in the same transaction as the
files are removed; removing files twice is harmless, so a crash in between
only means the next pass removes nothing more.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from app.db.queries import query
from app.domain import files as data_files
from app.domain.uploads import remove_files as remove_upload_files
from app.paths import dataset_prefix, run_dir
from app.settings import Settings

logger = logging.getLogger(__name__)

#: Datasets or uploads handled per pass.
BATCH = 100


class Cleanup:
    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def run_once(self, now: datetime | None = None) -> dict[str, int]:
        """One pass at `now` (the clock by default); returns how many of each thing were removed."""
        now = now or datetime.now(UTC)
        store = data_files.store(self.settings)
        with self.engine.begin() as connection:
            purgeable = connection.execute(
                query("purgeable_datasets"),
                {"retention_hours": self.settings.dataset_retention_hours, "batch": BATCH},
            ).all()
            for row in purgeable:
                store.delete_prefix(dataset_prefix(row.id))
                for upload_id in row.upload_ids or []:
                    remove_upload_files(self.settings, upload_id)
            if purgeable:
                connection.execute(query("mark_datasets_purged"), {"ids": [row.id for row in purgeable]})
            expired = connection.execute(query("expire_uploads"), {"batch": BATCH}).scalars().all()
            for upload_id in expired:  # its bytes and any ranges of an unfinished resumable upload
                remove_upload_files(self.settings, upload_id)
        if purgeable or expired:
            logger.info("cleanup: %d deleted datasets purged, %d uploads expired", len(purgeable), len(expired))
        logs, runs = self._retention()
        deliveries = self._webhook_retention()
        unfinished = 0
        if self.settings.multipart_upload_max_age_hours:
            before = now - timedelta(hours=self.settings.multipart_upload_max_age_hours)
            unfinished = store.abort_stale_uploads(before)
            if unfinished:
                logger.info(
                    "cleanup: %d unfinished writes started before %s removed from the store", unfinished, before
                )
        return {
            "datasets": len(purgeable),
            "uploads": len(expired),
            "run_logs": logs,
            "runs": runs,
            "webhook_deliveries": deliveries,
            "unfinished_writes": unfinished,
        }

    def _webhook_retention(self) -> int:
        """Finished webhook deliveries (and their attempts) past their retention: the delivery log stays bounded."""
        if not self.settings.webhook_delivery_retention_days:
            return 0
        with self.engine.begin() as connection:
            deleted = connection.execute(
                query("prune_webhook_deliveries"),
                {"days": self.settings.webhook_delivery_retention_days, "batch": BATCH * 10},
            ).rowcount
        if deleted:
            logger.info("retention: %d finished webhook deliveries deleted", deleted)
        return deleted

    def _retention(self) -> tuple[int, int]:
        """Finished runs' logs and events after the log retention, and their rows after the run retention."""
        logs = runs = 0
        if self.settings.run_log_retention_days:
            with self.engine.begin() as connection:
                purged = (
                    connection.execute(
                        query("purge_run_logs"), {"days": self.settings.run_log_retention_days, "batch": BATCH * 10}
                    )
                    .scalars()
                    .all()
                )
                for run_id in purged:
                    shutil.rmtree(run_dir(self.settings.data_path, run_id), ignore_errors=True)
            logs = len(purged)
        if self.settings.run_retention_days:
            with self.engine.begin() as connection:
                pruned = (
                    connection.execute(
                        query("prune_runs"), {"days": self.settings.run_retention_days, "batch": BATCH * 10}
                    )
                    .scalars()
                    .all()
                )
                for run_id in pruned:
                    shutil.rmtree(run_dir(self.settings.data_path, run_id), ignore_errors=True)
            runs = len(pruned)
        if logs or runs:
            logger.info("retention: logs of %d runs removed, %d runs deleted", logs, runs)
        return logs, runs
