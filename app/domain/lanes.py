"""Run lanes: runs submitted in bulk wait in a broker queue of their own, not ahead of a run someone waits for.

A lane is a Dramatiq queue and the actor its messages name:

- `<queue>` (actor `execute_run`): runs submitted one at a time — the API's `POST /runs`, the console,
  deployments' schedules, manual retries;
- `<queue>.bulk` (actor `execute_bulk_run`): batch submits (`POST /runs/batch`) and backfills, which
  arrive by the thousand.

Every worker consumes both lanes by default (`conveyor worker -Q` picks others: a host may serve only the
bulk lane). Dramatiq hands a worker thread the waiting message of the highest-priority actor first, so a
single run waits for one run's time behind a 5,000-run batch, not for the batch. A run keeps its lane on
retries and re-sends (the SQL re-uses its `broker_queue`). This module is the one definition of which run
goes where.
"""

from __future__ import annotations

from app.core.states import RunTrigger

#: The actor of the interactive lane (its name is what run messages carry).
RUN_ACTOR = "execute_run"
#: The actor of the bulk lane.
BULK_RUN_ACTOR = "execute_bulk_run"
#: Dramatiq actor priorities: a worker takes the lower number first when both lanes have messages waiting.
RUN_PRIORITY = 0
BULK_RUN_PRIORITY = 10
BULK_SUFFIX = ".bulk"
#: What arrives by the thousand: these runs take the bulk lane.
BULK_TRIGGERS = frozenset({RunTrigger.BATCH, RunTrigger.BACKFILL})


def bulk_queue(queue: str) -> str:
    """The bulk lane of `queue`."""
    return queue + BULK_SUFFIX


def lane_queues(queue: str) -> list[str]:
    """Both lanes of `queue`, interactive first: what a worker consumes by default."""
    return [queue, bulk_queue(queue)]


def queue_for(queue: str, trigger: RunTrigger | str) -> str:
    """The lane of `queue` a run made by `trigger` is sent to."""
    return bulk_queue(queue) if RunTrigger(trigger) in BULK_TRIGGERS else queue


def actor_for(queue: str) -> str:
    """The actor a message on `queue` names."""
    return BULK_RUN_ACTOR if queue.endswith(BULK_SUFFIX) else RUN_ACTOR
