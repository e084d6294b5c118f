"""The standalone scheduler as real processes: replicas, downtime and misfires, SIGKILL mid-tick."""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.acceptance.harness import ConveyorSystem, wait_until
from tests.acceptance.processes import Process

pytestmark = pytest.mark.acceptance


def sql(system: ConveyorSystem, statement: str, **params: object) -> list[tuple]:
    with psycopg.connect(system.database_url, autocommit=True) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def deploy(system: ConveyorSystem, name: str, **fields: object) -> str:
    response = system.http.post("/api/v1/deployments", json={"name": name, "pipeline": "noop", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def extra_scheduler(system: ConveyorSystem, name: str) -> Process:
    process = system._process(name, ["scheduler"])
    process.start()
    system.processes.append(process)
    return process


def scheduler_of(system: ConveyorSystem) -> Process:
    return next(p for p in system.processes if p.name == "scheduler")


def test_three_schedulers_make_exactly_one_run_per_fire_time(make_system: Callable[..., ConveyorSystem]) -> None:
    # No workers: the test is about the run rows the schedulers write, and 100 runs a second to execute would
    # only take the CPU the three schedulers contend with.
    system = make_system(workers=0)
    system.create_pipeline([], name="noop")
    extra_scheduler(system, "scheduler-2")
    extra_scheduler(system, "scheduler-3")
    anchor = (datetime.now(UTC) + timedelta(seconds=5)).replace(microsecond=0)
    ids = [
        deploy(
            system,
            f"every-2s-{i}",
            schedule={"kind": "interval", "seconds": 2, "anchor": anchor.isoformat()},
            overlap_policy="allow",
            misfire_grace_seconds=30,
        )
        for i in range(200)
    ]
    # The window is chosen once the deployments exist, as creating 200 may take longer than five seconds under
    # load: six fire times on the schedule's grid, the first at least two seconds ahead, so all are on time.
    behind = max(0.0, (datetime.now(UTC) + timedelta(seconds=2) - anchor).total_seconds())
    start = anchor + timedelta(seconds=2 * math.ceil(behind / 2))
    window_end = start + timedelta(seconds=10)
    sql(
        system,
        "UPDATE deployments SET last_scheduled_for = %(a)s, next_run_at = %(b)s",
        a=start - timedelta(seconds=1),
        b=start,
    )
    # Every fire time up to a deployment's last_scheduled_for has its run, written in the same transaction.
    wait_until(
        lambda: (
            sql(system, "SELECT count(*) FROM deployments WHERE last_scheduled_for < %(e)s", e=window_end)[0][0] == 0
        ),
        timeout=90,
        what="the schedulers to handle the window",
    )
    rows = sql(
        system,
        "SELECT deployment_id::text, scheduled_for FROM runs "
        "WHERE trigger = 'schedule' AND scheduled_for BETWEEN %(start)s AND %(end)s",
        start=start,
        end=window_end,
    )
    expected = {start + timedelta(seconds=2 * k) for k in range(6)}  # start .. start + 10 s
    per_deployment: dict[str, list[datetime]] = {i: [] for i in ids}
    for deployment_id, at in rows:
        per_deployment[deployment_id].append(at)
    wrong = {i: sorted(a) for i, a in per_deployment.items() if sorted(a) != sorted(expected)}
    assert wrong == {}, f"{len(wrong)} deployments without exactly one run per fire time"
    assert len(rows) == 200 * 6
    system.assert_healthy()


def test_downtime_gives_each_misfire_policy_its_documented_outcome(make_system: Callable[..., ConveyorSystem]) -> None:
    system = make_system(workers=1)
    system.create_pipeline([], name="noop")
    anchor = datetime.now(UTC).replace(microsecond=0).isoformat()
    common = {
        "schedule": {"kind": "interval", "seconds": 1, "anchor": anchor},
        "misfire_grace_seconds": 3,
        "overlap_policy": "allow",
    }
    ids = {
        policy: deploy(system, f"m-{policy}", misfire_policy=policy, max_catch_up=2, **common)
        for policy in ("skip", "run_once", "catch_up")
    }
    scheduler = scheduler_of(system)
    wait_until(
        lambda: sql(system, "SELECT count(*) FROM occurrences WHERE outcome = 'run'")[0][0] >= 6,
        timeout=30,
        what="a couple of on-time fires",
    )
    scheduler.stop()
    stopped = datetime.now(UTC)
    wait_until(lambda: datetime.now(UTC) > stopped + timedelta(seconds=12), timeout=30, what="twelve seconds down")
    restarted = datetime.now(UTC)
    scheduler.start()
    wait_until(
        lambda: sql(system, "SELECT count(*) FROM occurrences WHERE recorded_at > %(t)s", t=restarted)[0][0] >= 3 * 12,
        timeout=60,
        what="the restarted scheduler to handle the missed fire times",
    )

    def count(policy: str, condition: str) -> int:
        return int(
            sql(system, f"SELECT count(*) FROM occurrences WHERE deployment_id = %(d)s AND {condition}", d=ids[policy])[
                0
            ][0]
        )

    late_run = "outcome = 'run' AND scheduled_for < recorded_at - interval '3 s'"  # ran although past the grace
    assert count("skip", late_run) == 0
    assert count("skip", "outcome = 'misfire_skipped'") >= 6
    assert count("run_once", late_run) == 1  # one run for the newest missed time ...
    assert count("run_once", "outcome = 'coalesced'") >= 6  # ... and the others folded into it
    assert count("catch_up", late_run) == 2  # the newest max_catch_up=2 missed times ...
    assert count("catch_up", "outcome = 'misfire_skipped'") >= 5  # ... and the older ones dropped
    for policy in ids:  # every missed fire time is accounted for: no gaps in the record
        seconds = sql(
            system,
            "SELECT extract(epoch FROM max(scheduled_for) - min(scheduled_for))::int, count(*) "
            "FROM occurrences WHERE deployment_id = %(d)s",
            d=ids[policy],
        )[0]
        assert seconds[0] + 1 == seconds[1], policy


def test_a_scheduler_killed_mid_tick_leaves_nothing_half_written(make_system: Callable[..., ConveyorSystem]) -> None:
    system = make_system(workers=1)
    system.create_pipeline([], name="noop")
    scheduler = scheduler_of(system)
    scheduler.stop()
    # Every minute, down for five hours: after the catch-up each deployment has one fire time a minute, not the
    # 100 runs a second a 2-second interval would leave the worker to run while the test waits.
    anchor = datetime.now(UTC) - timedelta(minutes=300)
    for i in range(200):
        deploy(
            system,
            f"k-{i}",
            schedule={"kind": "interval", "seconds": 60, "anchor": anchor.isoformat()},
            misfire_policy="catch_up",
            max_catch_up=3,
            misfire_grace_seconds=30,
            overlap_policy="allow",
        )
    # As after five hours of downtime: each deployment has 300 fire times to work through in the next tick.
    sql(system, "UPDATE deployments SET last_scheduled_for = %(a)s, next_run_at = %(a)s", a=anchor)
    scheduler.start()
    wait_until(lambda: "started" in scheduler.output(), timeout=60, what="the scheduler to start")
    kill_at = time.monotonic() + 0.4  # the first tick begins 0.25 s after start and takes a while
    wait_until(lambda: time.monotonic() > kill_at, timeout=5, what="the first tick to be under way")
    assert scheduler.popen is not None
    os.kill(scheduler.popen.pid, signal.SIGKILL)
    scheduler.popen.wait(10)
    scheduler.start()
    wait_until(
        lambda: sql(system, "SELECT count(*) FROM deployments WHERE next_run_at < now() - interval '5 s'")[0][0] == 0,
        timeout=120,
        what="every deployment to be caught up",
    )
    # Every run has its occurrence and every 'run' occurrence its run; no fire time twice.
    orphans = sql(
        system,
        "SELECT count(*) FROM runs r LEFT JOIN occurrences o ON o.run_id = r.id "
        "WHERE r.trigger = 'schedule' AND o.id IS NULL",
    )[0][0]
    missing = sql(
        system,
        "SELECT count(*) FROM occurrences o LEFT JOIN runs r ON r.id = o.run_id "
        "WHERE o.outcome = 'run' AND r.id IS NULL",
    )[0][0]
    doubled = sql(
        system,
        "SELECT count(*) FROM (SELECT 1 FROM runs WHERE trigger = 'schedule' "
        "GROUP BY deployment_id, scheduled_for HAVING count(*) > 1) x",
    )[0][0]
    assert (orphans, missing, doubled) == (0, 0, 0)
    # catch_up ran the newest three of the fire times missed beyond the grace, once, whichever process did it.
    late_runs = sql(
        system,
        "SELECT count(*) FROM occurrences WHERE outcome = 'run' "
        "AND scheduled_for < recorded_at - interval '30 s' GROUP BY deployment_id",
    )
    assert len(late_runs) == 200
    assert {n for (n,) in late_runs} == {3}
