"""The attempt-folder sweep: the folders of attempts no version row names, of runs that have ended, removed.

An attempt removes its own folder when it ends without publishing, the next attempt removes its predecessors', and
the reaper, ending a lost run, removes all but the published one's (app.domain.files). A killed attempt whose run then
ends with no later attempt and not by the reaper (the user cancels it while it waits RETRYING or QUEUED: the API does
no file work), or a store that failed when one of those tried, leaves its folder for good. This sweep, part of the
reaper's housekeeping, goes through the runs that ended, in the order they ended, a bounded batch a pass, and removes
every attempt's folder of each but the one its version row names, under its output and under any output it gave up
when it was retried by hand (app.domain.earlier_outputs); a run that ended moments ago is left a grace period,
so an attempt still recording its version is never raced. A second pass goes over the runs again `LATE` after they
ended, for the files an attempt given up on wrote after the first pass had gone by (it was paused past its lease,
woke, wrote, and was killed before it learned it lost, so it never removed them).

Each pass's position (a keyset cursor on the end time and the id) is a row of `attempt_sweep_positions`, held FOR
UPDATE SKIP LOCKED for the whole pass and moved in the same transaction: a scheduler that restarts goes on where the
last pass stopped, and while one scheduler sweeps, another's pass finds the row taken and does nothing. A pass that
dies (the scheduler killed, the database away) moves nothing, and the next one goes over its runs again: removing
files twice is harmless. A store that fails stops the position before the first run of the dataset it failed on,
which the next pass tries again. The first pass ever starts `LOOKBACK` before it runs.

The store is listed once per dataset a pass (from the first of its runs in the batch to the last: run ids grow with
time, so those are near each other), and a run whose only attempt published is not looked at: it has nothing to remove.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from app.db.queries import query
from app.domain import files as data_files
from app.settings import Settings

logger = logging.getLogger(__name__)

#: How far back the first pass ever starts: the runs that ended in the day before the sweep first ran.
LOOKBACK = timedelta(days=1)
#: Runs that ended more recently than this are left for a later pass.
GRACE = timedelta(minutes=5)
#: Runs looked at per pass (one listing of the store per dataset they wrote; each's folder on this host).
BATCH = 100
#: Runs a second pass goes over again, this long after they ended: an attempt given up on that wrote its files late,
#: after the first pass had gone by, and was killed before it learned it lost (so it never removed them). One that
#: is not paused learns it within a heartbeat, or gives up waiting for the database after DATABASE_WAIT_SECONDS
#: (5 minutes); a process paused longer than this after its run ended is not covered.
LATE = timedelta(hours=1)
#: The passes (attempt_sweep_positions.pass), each with its own position, and how long after its end each takes a run.
PASSES: dict[str, timedelta] = {"grace": GRACE, "late": LATE}


class AttemptSweep:
    def __init__(self, *, engine: Engine, settings: Settings, batch: int = BATCH) -> None:
        self.engine, self.settings, self.batch = engine, settings, batch

    def start_from(self, at: datetime) -> None:
        """Go (back or on) to the runs that ended after `at`, from the next pass (an operator's, or a test's)."""
        with self.engine.begin() as connection:
            for name in PASSES:
                connection.execute(
                    query("move_attempt_sweep"), {"pass": name, "after_at": at, "after_id": uuid.UUID(int=0)}
                )

    def sweep_once(self, now: datetime | None = None) -> tuple[int, int]:
        """Each pass once at `now` (the clock by default): (runs swept, attempts' folders removed); a pass whose
        position another scheduler holds does nothing."""
        now = now or datetime.now(UTC)
        swept = removed = 0
        for name, delay in PASSES.items():
            with self.engine.begin() as connection:
                connection.execute(query("seed_attempt_sweep"), {"pass": name, "after_at": now - LOOKBACK})
                position = connection.execute(query("claim_attempt_sweep"), {"pass": name}).first()
                if position is None:  # another scheduler is sweeping
                    continue
                done = self._pass(connection, name, (position.after_at, position.after_id), until=now - delay)
            swept, removed = swept + done[0], removed + done[1]
        return swept, removed

    def _pass(
        self, connection: Connection, name: str, after: tuple[datetime, uuid.UUID], *, until: datetime
    ) -> tuple[int, int]:
        """Pass `name`: the runs that ended after `after` and by `until`, a batch: their folders removed, the position
        moved past the last one done, in the caller's transaction.

        The store is listed once per dataset (its runs' folders, from the first of the batch's runs there to the last),
        not once per run, and not at all for a run whose only attempt published (`settled`)."""
        rows = connection.execute(
            query("ended_runs_with_attempt_files"),
            {"after_at": after[0], "after_id": after[1], "until": until, "batch": self.batch},
        ).all()
        by_dataset: dict[uuid.UUID, list[data_files.RunAttempts]] = {}
        for row in rows:
            if not settled(row):  # each dataset the run's attempts wrote: its output, any it gave up on a retry by hand
                by_dataset.setdefault(row.dataset_id, []).append((row.id, row.attempt + 1, row.kept))
        removed = 0
        failed: set[uuid.UUID] = set()
        for dataset_id, runs in by_dataset.items():
            try:
                removed += data_files.drop_runs_attempts(self.settings, dataset_id, runs)
            except Exception as exc:  # the store is away: these runs again next pass
                logger.warning("attempt sweep: could not remove the attempts' files of dataset %s: %s", dataset_id, exc)
                failed.update(run_id for run_id, _, _ in runs)
        swept = 0
        for (run_id, finished_at), _ in itertools.groupby(rows, key=lambda row: (row.id, row.finished_at)):
            if run_id in failed:  # the position stops before it
                break
            after = (finished_at, run_id)
            swept += 1
        if swept:
            connection.execute(query("move_attempt_sweep"), {"pass": name, "after_at": after[0], "after_id": after[1]})
        if removed:
            logger.info("attempt sweep: %d attempts' folders removed, no version row naming them", removed)
        return swept, removed


def settled(row: Any) -> bool:
    """Whether a run has nothing to remove under a dataset: its only attempt (attempt 1; a retry by hand adds one)
    published the version there, so the one folder is the version's."""
    return bool(row.attempt == 1 and row.kept == 1)
