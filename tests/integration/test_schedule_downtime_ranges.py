"""A long downtime's missed fire times are recorded in a bounded number of rows, and still counted one by one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.scheduling.timing import MAX_SINGLE_MISSED
from scheduler.schedule_loop import ScheduleLoop
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
    ("policy", "missed", "code"),
    [("skip", {"misfire_skipped": DAY - 61}, "misfire_grace"), ("run_once", {"coalesced": DAY - 62}, "coalesced")],
)
def test_a_day_of_per_second_fire_times_missed_is_one_row_that_counts_them_all(
    client: TestClient,
    pipeline: dict,
    engine: Engine,
    loop: ScheduleLoop,
    policy: str,
    missed: dict[str, int],
    code: str,
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
    assert item["reason_code"] == code  # the range, extended tick after tick, keeps saying why


@pytest.mark.parametrize(
    ("paused", "outcome", "code"), [(True, "paused", "paused"), (False, "misfire_skipped", "schedule_changed")]
)
def test_resume_and_a_schedule_change_record_every_fire_time_due_in_bounded_rows(
    client: TestClient, pipeline: dict, engine: Engine, paused: bool, outcome: str, code: str
) -> None:
    # Given a deployment every second whose last handled fire time is two hours back (paused, or every scheduler
    # down while it was active)
    with engine.connect() as connection:
        db_now = connection.execute(text("SELECT date_trunc('second', clock_timestamp())")).scalar_one()
    every_second = {"kind": "interval", "seconds": 1, "anchor": (db_now - timedelta(days=1)).isoformat()}
    d = deploy(client, schedule=every_second)
    if paused:
        assert client.post(f"/api/v1/deployments/{d['id']}/pause").status_code == 200
    rewind(engine, d["id"], db_now - timedelta(hours=2))
    # When it is resumed, or its schedule is changed
    if paused:
        response = client.post(f"/api/v1/deployments/{d['id']}/resume")
    else:
        response = client.patch(
            f"/api/v1/deployments/{d['id']}", json={"schedule": {"kind": "interval", "seconds": 60}}
        )
    assert response.status_code == 200, response.text
    # Then the 7,200 and more fire times due since are one row that counts every one of them, none lost
    items = client.get(f"/api/v1/deployments/{d['id']}/occurrences").json()["items"]
    assert len(items) == 1
    [item] = items
    first, last = (datetime.fromisoformat(item[k]) for k in ("first_scheduled_for", "scheduled_for"))
    assert (item["outcome"], item["reason_code"], first) == (
        outcome,
        code,
        db_now - timedelta(hours=2) + timedelta(seconds=1),
    )
    assert last >= db_now
    assert item["fire_times"] == (last - first).total_seconds() + 1 >= 2 * 3600
    assert recorded(engine, d["id"], last)[1] == {outcome: item["fire_times"]}
