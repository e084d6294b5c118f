"""Folds the queue of counted and taken-back runs into the hourly metrics rollup.

Triggers on `runs` queue a signed run_partials row whenever a run is counted
or stops being counted (sql/functions/run_rollup_capture.sql); each fold moves
a batch of them into the rollup tables in one statement. Metrics read the
rollup, the queue and the unfinished runs together, so they are exact whether
or not the fold has caught up: folding only makes them cheaper to read.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from app.db.queries import all_queries, query

logger = logging.getLogger(__name__)

#: Queued changes folded per transaction.
BATCH = 20_000
#: The statement that takes the fold lock and waits for it (sql/queries/rollup.sql), for a test to hold it.
REBUILD_LOCK = all_queries()["rollup_rebuild_lock"]


class RollupFolder:
    def __init__(self, *, engine: Engine, batch: int = BATCH) -> None:
        self.engine = engine
        self.batch = batch

    def fold_once(self) -> int:
        """Fold one batch; returns how many changes it moved (0 if another scheduler is folding)."""
        with self.engine.begin() as connection:
            if not connection.execute(query("rollup_fold_lock")).scalar_one():
                return 0
            row = connection.execute(query("fold_run_rollup_changes"), {"batch": self.batch}).one()
            if row.emptied_hours:
                connection.execute(query("drop_empty_rollup_rows"), {"hours": row.emptied_hours})
        return int(row.folded)

    def fold_all(self) -> int:
        """Fold until the queue is empty (or another scheduler holds the rest)."""
        total = 0
        while (folded := self.fold_once()) > 0:
            total += folded
            if folded < self.batch:
                break
        if total:
            logger.debug("rollup: %d run changes folded", total)
        return total

    def rebuild(self) -> int:
        """Empty the rollup, queue every final run again and fold them; returns the runs counted."""
        with self.engine.begin() as connection:
            connection.execute(query("rollup_rebuild_lock"))
            queued = int(connection.execute(query("rebuild_run_rollup")).scalar_one())
        self.fold_all()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(query("vacuum_rollup"))  # the queue just took and gave back every run
        return queued
