"""Every PostgreSQL session of the system's database terminated, three times, while a schedule fires each second.

What an operator's pg_terminate_backend, a failover or a proxy's idle timeout does to real processes: the
api's pooled connections, the scheduler's pool and LISTEN connections, the worker's pool are all cut at once.
Afterwards the API answers the next read 200 and makes a create exactly once; the scheduler goes on firing,
with exactly one run for every fire time across the drops (none lost, none twice); the worker runs each of
them once, to SUCCEEDED. Only the system's own database is touched (tests/acceptance/faults.py).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.acceptance.faults import terminate_database_backends
from tests.acceptance.harness import ConveyorSystem, wait_until

pytestmark = pytest.mark.acceptance

#: Drops, and the fire times (one a second) between two of them.
DROPS = 3
SECONDS_BETWEEN_DROPS = 2
#: What a process logs when an error escapes it (Dramatiq's actor, the API's last-resort handler).
UNHANDLED = ("with unhandled exception", "unhandled error on")


def sql(system: ConveyorSystem, statement: str, **params: object) -> list[tuple]:
    with psycopg.connect(system.database_url, autocommit=True) as connection:
        return connection.execute(statement, params).fetchall()


def let_pass(seconds: float) -> None:
    """Real time for the real processes: fire times come with the wall clock."""
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    wait_until(lambda: datetime.now(UTC) > until, timeout=seconds + 5, what=f"{seconds} s to pass")


def test_dropped_sessions_lose_no_fire_time_run_nothing_twice_and_the_api_answers(
    make_system: Callable[..., ConveyorSystem],
) -> None:
    system = make_system(workers=1)
    pipeline = system.create_pipeline([{"type": "log", "message": "tick"}])
    # Given a deployment firing every second (the default misfire grace, 60 s, outlasts any loop's back-off)
    anchor = datetime.now(UTC).replace(microsecond=0).isoformat()
    deployed = system.http.post(
        "/api/v1/deployments",
        json={
            "name": "every-second",
            "pipeline": pipeline["id"],
            "schedule": {"kind": "interval", "seconds": 1, "anchor": anchor},
            "overlap_policy": "allow",
        },
    )
    assert deployed.status_code == 201, deployed.text
    deployment = deployed.json()["id"]
    wait_until(
        lambda: len(system.list_runs(pipeline=pipeline["id"], status=["SUCCEEDED"])) >= 3,
        timeout=60,
        what="the first scheduled runs to succeed",
    )
    first_drop = datetime.now(UTC)

    # When every session of the database is terminated, three times, two seconds apart
    answers: list[tuple[str, int]] = []
    created: list[str] = []
    for drop in range(DROPS):
        assert terminate_database_backends(system.database_url, wait=True), "no session to terminate"
        # Then the API's next calls answer: a read, a create made once, and a submit with an Idempotency-Key
        answers.append(("GET /runs", system.http.get("/api/v1/runs", params={"limit": 5}).status_code))
        terminate_database_backends(system.database_url, wait=True)
        name = f"after-drop-{drop}-{uuid.uuid4().hex[:6]}"
        made = system.http.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}})
        answers.append(("POST /pipelines", made.status_code))
        created.append(name)
        terminate_database_backends(system.database_url, wait=True)
        submitted = system.http.post(
            "/api/v1/runs", json={"pipeline": pipeline["id"]}, headers={"Idempotency-Key": f"drop-{drop}"}
        )
        answers.append(("POST /runs", submitted.status_code))
        let_pass(SECONDS_BETWEEN_DROPS)
    last_drop = datetime.now(UTC)
    assert [status for _, status in answers] == [200, 201, 201] * DROPS, answers
    for name in created:
        assert sql(system, "SELECT count(*) FROM pipelines WHERE name = %(n)s", n=name) == [(1,)]
    assert sql(system, "SELECT count(*) FROM runs WHERE trigger = 'api'") == [(DROPS,)]

    # And the scheduler carried on: every fire time from before the first drop to after the last has one run
    window_end = last_drop + timedelta(seconds=2)
    wait_until(
        lambda: sql(system, "SELECT last_scheduled_for >= %(e)s FROM deployments", e=window_end) == [(True,)],
        timeout=60,
        what="the scheduler to fire past the drops",
    )
    fired = sql(
        system,
        "SELECT scheduled_for, count(*) FROM runs WHERE deployment_id = %(d)s"
        " AND scheduled_for BETWEEN %(a)s AND %(b)s GROUP BY 1 ORDER BY 1",
        d=deployment,
        a=first_drop - timedelta(seconds=2),
        b=window_end,
    )
    times = [at for at, _ in fired]
    assert all(count == 1 for _, count in fired), fired
    assert times == [times[0] + timedelta(seconds=k) for k in range(len(times))], f"a fire time was lost: {times}"
    assert len(times) >= DROPS * SECONDS_BETWEEN_DROPS
    skipped = sql(system, "SELECT outcome, count(*) FROM occurrences WHERE outcome <> 'run' GROUP BY 1")
    assert skipped == [], skipped

    # And the worker ran each of them once, to SUCCEEDED
    run_ids = [str(r) for (r,) in sql(system, "SELECT id FROM runs WHERE scheduled_for <= %(b)s", b=window_end)]
    runs = system.wait_runs(run_ids, timeout=60)
    assert Counter(run["status"] for run in runs.values()) == {"SUCCEEDED": len(run_ids)}
    assert {run["attempt"] for run in runs.values()} == {1}
    started = sql(
        system,
        "SELECT count(*) FROM run_events WHERE to_status = 'RUNNING' AND run_id = ANY(%(ids)s::uuid[])",
        ids=run_ids,
    )
    assert started == [(len(run_ids),)]
    system.assert_healthy()
    escaped = [
        line
        for process in [*system.processes, *system.workers]
        for line in process.output().splitlines()
        if any(sign in line for sign in UNHANDLED)
    ]
    assert not escaped, escaped[:5]
