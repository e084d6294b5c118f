"""A long downtime's missed fire times are recorded in a bounded number of rows, and still counted one by one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from scheduler.schedule_loop import MAX_SINGLE_MISSED, ScheduleLoop
from tests.integration.schedule_support import T0, deploy, loop, rewind

__all__ = ["loop"]  # the fixture, from schedule_support

DAY = 86_400


def recorded(engine: Engine, deployment_id: str, until: datetime) -> tuple[int, dict[str, int]]:
    """(occurrence rows, fire times per outcome as the metrics view counts them) of the deployment, to `until`."""
    where = {"id": deployment_id, "until": until}
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*) FROM occurrences WHERE deployment_id = :id AND scheduled_for <= :until"), where
        ).scalar_one()
        counted = connection.execute(
            text(
                "SELECT outcome, sum(fire_times) FROM occurrence_facts"
                " WHERE deployment_id = :id AND scheduled_for <= :until GROUP BY 1"
            ),
            where,
        ).all()
    return rows, {outcome: int(n) for outcome, n in counted}


@pytest.mark.parametrize(
    ("policy", "missed"), [("skip", {"misfire_skipped": DAY - 61}), ("run_once", {"coalesced": DAY - 62})]
)
def test_a_day_of_per_second_fire_times_missed_is_one_row_that_counts_them_all(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop, policy: str, missed: dict[str, int]
) -> None:
    # Given a deployment firing every second (grace 60 s), last handled a day ago
    d = deploy(
        client,
        schedule={"kind": "interval", "seconds": 1, "anchor": T0.isoformat()},
        misfire_policy=policy,
        misfire_grace_seconds=60,
        overlap_policy="allow",
    )
    rewind(engine, d["id"], T0)
    # When the scheduler comes back and works the downtime off, tick after tick
    now = T0 + timedelta(seconds=DAY)
    while loop.tick(now).deployments:
        pass
    # Then the missed fire times are one row, however many there were, and each is still counted
    rows, counted = recorded(engine, d["id"], now)  # not the fire times planned ahead
    runs = 61 if policy == "skip" else 62  # the fire times within the grace (the last 60 s and now), run_once's one
    assert {k: v for k, v in counted.items() if k != "run"} == missed
    assert counted["run"] == runs
    assert sum(counted.values()) == DAY  # every fire time of the day, accounted for
    assert rows == runs + 1
    # And the API shows the range: where it starts and ends, and how many fire times it stands for
    items = client.get(f"/api/v1/deployments/{d['id']}/occurrences", params={"outcome": next(iter(missed))})
    [item] = items.json()["items"]
    assert item["fire_times"] == next(iter(missed.values()))
    assert item["first_scheduled_for"] == (T0 + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert item["fire_times"] > MAX_SINGLE_MISSED
