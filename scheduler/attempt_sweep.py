"""The attempt-folder sweep: the folders of attempts no version row names, of runs that have ended, removed.

An attempt removes its own folder when it ends without publishing, the next attempt removes its predecessors', and
the reaper, ending a lost run, removes all but the published one's (app.domain.files). A killed attempt whose run then
ends with no later attempt and not by the reaper (the user cancels it while it waits RETRYING or QUEUED: the API does
no file work), or a store that failed when one of those tried, leaves its folder for good. This sweep, part of the
reaper's housekeeping, goes through the runs that ended, in the order they ended, a bounded batch a pass, and removes
every attempt's folder of each but the one its version row names, under its output and under any output it gave up
when it was retried by hand (app.domain.earlier_outputs); a run that ended moments ago is left a grace period,
so an attempt still recording its version is never raced.

The position (a keyset cursor on the end time and the id) is a row of `attempt_sweep_positions`, held FOR UPDATE SKIP
LOCKED for the whole pass and moved in the same transaction: a scheduler that restarts goes on where the last pass
stopped, and while one scheduler sweeps, another's pass finds the row taken and does nothing. A pass that dies (the
scheduler killed, the database away) moves nothing, and the next one goes over its runs again: removing files twice
is harmless. A store that fails stops the pass at that run, which the next pass tries again. The first pass ever
starts `LOOKBACK` before it runs.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from app.db.queries import query
from app.domain import files as data_files
from app.settings import Settings

logger = logging.getLogger(__name__)

#: How far back the first pass ever starts: the runs that ended in the day before the sweep first ran.
LOOKBACK = timedelta(days=1)
#: Runs that ended more recently than this are left for a later pass.
GRACE = timedelta(minutes=5)
#: Runs looked at per pass (one listing of the run's folder each, in the store and on this host).
BATCH = 100
#: The position row of the sweep (attempt_sweep_positions.pass).
PASS = "grace"


class AttemptSweep:
    def __init__(self, *, engine: Engine, settings: Settings, batch: int = BATCH) -> None:
        self.engine, self.settings, self.batch = engine, settings, batch

    def start_from(self, at: datetime) -> None:
        """Go (back or on) to the runs that ended after `at`, from the next pass (an operator's, or a test's)."""
        with self.engine.begin() as connection:
            connection.execute(
                query("move_attempt_sweep"), {"pass": PASS, "after_at": at, "after_id": uuid.UUID(int=0)}
            )

    def sweep_once(self, now: datetime | None = None) -> tuple[int, int]:
        """One pass at `now` (the clock by default): (runs swept, attempts' folders removed); (0, 0) while another
        scheduler's pass holds the position."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as connection:
            connection.execute(query("seed_attempt_sweep"), {"pass": PASS, "after_at": now - LOOKBACK})
            position = connection.execute(query("claim_attempt_sweep"), {"pass": PASS}).first()
            if position is None:  # another scheduler is sweeping
                return 0, 0
            return self._pass(connection, (position.after_at, position.after_id), until=now - GRACE)

    def _pass(self, connection: Connection, after: tuple[datetime, uuid.UUID], *, until: datetime) -> tuple[int, int]:
        """The runs that ended after `after` and by `until`, a batch: their folders removed, the position moved past
        the last one done, in the caller's transaction."""
        rows = connection.execute(
            query("ended_runs_with_attempt_files"),
            {"after_at": after[0], "after_id": after[1], "until": until, "batch": self.batch},
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
            after = (finished_at, run_id)
            swept += 1
        if swept:
            connection.execute(query("move_attempt_sweep"), {"pass": PASS, "after_at": after[0], "after_id": after[1]})
        if removed:
            logger.info("attempt sweep: %d attempts' folders removed, no version row naming them", removed)
        return swept, removed
