"""The attempt-folder sweep: the folders of attempts no version row names, of runs that have ended, removed.

An attempt removes its own folder when it ends without publishing, the next attempt removes its predecessors', and
the reaper, ending a lost run, removes all but the published one's (app.domain.files). A killed attempt whose run then
ends with no later attempt and not by the reaper (the user cancels it while it waits RETRYING or QUEUED: the API does
no file work), or a store that failed when one of those tried, leaves its folder for good. This sweep, part of the
reaper's housekeeping, goes through the runs that ended, in the order they ended, a bounded batch a pass, and removes
every attempt's folder of each but the one its version row names, under its output and under any output it gave up
when it was retried by hand (app.domain.earlier_outputs); a run that ended moments ago is left a grace period,
so an attempt still recording its version is never raced.

The position is this process's (a keyset cursor on the end time and the id), from `LOOKBACK` before it started: a
scheduler that restarts goes over that window again, and replicas each go over every run. Removing files twice is
harmless; a store that fails stops the pass where it is, and the next pass tries that run again.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from app.db.queries import query
from app.domain import files as data_files
from app.settings import Settings

logger = logging.getLogger(__name__)

#: How far back a process's sweep starts: runs that ended while no scheduler ran (a restart) are swept too.
LOOKBACK = timedelta(days=1)
#: Runs that ended more recently than this are left for a later pass.
GRACE = timedelta(minutes=5)
#: Runs looked at per pass (one listing of the run's folder each, in the store and on this host).
BATCH = 100


class AttemptSweep:
    def __init__(
        self, *, engine: Engine, settings: Settings, since: datetime | None = None, batch: int = BATCH
    ) -> None:
        self.engine, self.settings, self.batch = engine, settings, batch
        self.after: tuple[datetime, uuid.UUID] = (since or datetime.now(UTC) - LOOKBACK, uuid.UUID(int=0))

    def sweep_once(self, now: datetime | None = None) -> tuple[int, int]:
        """One pass at `now` (the clock by default): (runs swept, attempts' folders removed)."""
        until = (now or datetime.now(UTC)) - GRACE
        with self.engine.connect() as connection:
            rows = connection.execute(
                query("ended_runs_with_attempt_files"),
                {"after_at": self.after[0], "after_id": self.after[1], "until": until, "batch": self.batch},
            ).all()
        swept = removed = 0
        for (run_id, finished_at), pairs in itertools.groupby(rows, key=lambda row: (row.id, row.finished_at)):
            try:  # each dataset the run's attempts wrote: its output, and any it gave up when retried by hand
                for row in pairs:
                    removed += data_files.drop_attempts(
                        self.settings, row.dataset_id, run_id, before=row.attempt + 1, keep=row.kept
                    )
            except Exception as exc:  # the store is away: this run again next pass
                logger.warning("attempt sweep: could not remove the files of run %s's attempts: %s", run_id, exc)
                break
            self.after = (finished_at, run_id)
            swept += 1
        if removed:
            logger.info("attempt sweep: %d attempts' folders removed, no version row naming them", removed)
        return swept, removed
