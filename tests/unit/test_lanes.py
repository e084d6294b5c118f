"""Which lane a run takes: the one definition in app/domain/lanes.py."""

from __future__ import annotations

import pytest

from app.core.states import RunTrigger
from app.domain.lanes import BULK_RUN_ACTOR, RUN_ACTOR, actor_for, bulk_queue, lane_queues, queue_for


@pytest.mark.parametrize("trigger", list(RunTrigger))
def test_only_batch_submits_and_backfills_take_the_bulk_lane(trigger: RunTrigger) -> None:
    bulk = trigger in (RunTrigger.BATCH, RunTrigger.BACKFILL)
    assert queue_for("default", trigger) == ("default.bulk" if bulk else "default")
    assert queue_for("default", trigger.value) == queue_for("default", trigger)


def test_each_lane_names_its_actor_and_a_worker_consumes_both() -> None:
    assert lane_queues("reports") == ["reports", "reports.bulk"]
    assert actor_for("reports") == RUN_ACTOR
    assert actor_for(bulk_queue("reports")) == BULK_RUN_ACTOR
