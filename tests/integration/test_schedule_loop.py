"""The schedule loop against the real database, driven by a fake clock: never sleeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.settings import Settings
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import T0, deploy, loop, occurrences, reason_codes, rewind, scheduled_runs

__all__ = ["loop"]  # the fixture, from schedule_support


def test_each_fire_time_gets_one_run_and_the_next_fire_time_advances(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, overlap_policy="allow")
    rewind(engine, d["id"], T0)
    for minute in (1, 2, 3):
        loop.tick(T0 + timedelta(minutes=minute, seconds=1))
    loop.tick(T0 + timedelta(minutes=3, seconds=2))  # the same minute again changes nothing
    assert scheduled_runs(engine, d["id"]) == [1, 2, 3]
    assert occurrences(engine, d["id"]) == [(1, "run"), (2, "run"), (3, "run")]
    with engine.connect() as connection:
        next_run_at = connection.execute(
            text("SELECT next_run_at FROM deployments WHERE id = :id"), {"id": d["id"]}
        ).scalar_one()
    assert next_run_at == T0 + timedelta(minutes=4)


#: The reason code of each outcome the downtime below leaves, by misfire policy.
MISFIRE_CODES = {
    "skip": {"misfire_skipped": "misfire_grace", "run": "ran"},
    "run_once": {"coalesced": "coalesced", "run": "ran"},
    "catch_up": {"misfire_skipped": "max_catch_up", "run": "ran"},
}


@pytest.mark.parametrize(
    ("policy", "runs", "outcomes"),
    [
        ("skip", [10], ["misfire_skipped"] * 9 + ["run"]),
        ("run_once", [9, 10], ["coalesced"] * 8 + ["run", "run"]),
        ("catch_up", [7, 8, 9, 10], ["misfire_skipped"] * 6 + ["run"] * 4),
    ],
)
def test_misfire_policies_after_downtime(
    client: TestClient,
    pipeline: dict,
    engine: Engine,
    loop: ScheduleLoop,
    policy: str,
    runs: list[int],
    outcomes: list[str],
) -> None:
    d = deploy(client, misfire_policy=policy, max_catch_up=3, misfire_grace_seconds=30, overlap_policy="allow")
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=10, seconds=5))  # the scheduler was down for ten minutes
    assert scheduled_runs(engine, d["id"]) == runs
    assert [o for _, o in occurrences(engine, d["id"])] == outcomes
    assert [code for _, code in reason_codes(engine, d["id"])] == [MISFIRE_CODES[policy][o] for o in outcomes]


def test_overlap_skip_records_why(client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop) -> None:
    d = deploy(client, overlap_policy="skip", max_concurrent_runs=1)
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=1, seconds=1))
    loop.tick(T0 + timedelta(minutes=2, seconds=1))  # the first run has not finished
    assert occurrences(engine, d["id"]) == [(1, "run"), (2, "overlap_skipped")]
    assert reason_codes(engine, d["id"]) == [(1, "ran"), (2, "overlap_limit")]
    listed = client.get(f"/api/v1/deployments/{d['id']}/occurrences").json()["items"]
    assert [(o["outcome"], o["reason_code"]) for o in listed] == [("overlap_skipped", "overlap_limit"), ("run", "ran")]


def test_buffer_one_holds_a_run_and_releases_it_when_the_slot_frees(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, overlap_policy="buffer_one")
    rewind(engine, d["id"], T0)
    for minute in (1, 2, 3):
        loop.tick(T0 + timedelta(minutes=minute, seconds=1))
    assert occurrences(engine, d["id"]) == [(1, "run"), (2, "buffered"), (3, "overlap_skipped")]
    assert reason_codes(engine, d["id"]) == [(1, "ran"), (2, "buffered"), (3, "overlap_limit")]
    with engine.begin() as connection:  # the first run finishes
        connection.execute(
            text("UPDATE runs SET status = 'SUCCEEDED' WHERE deployment_id = :id AND scheduled_for = :at"),
            {"id": d["id"], "at": T0 + timedelta(minutes=1)},
        )
    assert loop.tick(T0 + timedelta(minutes=3, seconds=30)).released == 1
    with engine.connect() as connection:
        held = connection.execute(
            text("SELECT count(*) FROM runs WHERE deployment_id = :id AND held"), {"id": d["id"]}
        ).scalar_one()
        sent = connection.execute(
            text("SELECT count(*) FROM outbox o JOIN runs r ON r.id = o.run_id WHERE r.deployment_id = :id"),
            {"id": d["id"]},
        ).scalar_one()
    assert (held, sent) == (0, 2)


def test_cancel_running_cancels_the_previous_run(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, overlap_policy="cancel_running")
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=1, seconds=1))
    loop.tick(T0 + timedelta(minutes=2, seconds=1))
    with engine.connect() as connection:
        statuses = (
            connection.execute(
                text("SELECT status FROM runs WHERE deployment_id = :id ORDER BY scheduled_for"), {"id": d["id"]}
            )
            .scalars()
            .all()
        )
    assert statuses == ["CANCELLED", "PENDING"]


def test_a_manual_trigger_never_collides_with_a_scheduled_run(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, overlap_policy="allow", params={"day": "a", "n": 1})
    manual = client.post(
        f"/api/v1/deployments/{d['id']}/trigger", json={"params": {"day": "b"}}, headers={"Idempotency-Key": "t-1"}
    )
    again = client.post(
        f"/api/v1/deployments/{d['id']}/trigger", json={"params": {"day": "b"}}, headers={"Idempotency-Key": "t-1"}
    )
    assert manual.status_code == 201
    assert manual.json()["trigger"] == "manual"
    assert manual.json()["params"] == {"day": "b", "n": 1}
    assert again.json()["id"] == manual.json()["id"]
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=1, seconds=1))
    assert scheduled_runs(engine, d["id"]) == [1]


def test_three_schedulers_at_once_make_exactly_one_run_per_fire_time(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    ids = [deploy(client, name=f"many-{i}", overlap_policy="allow")["id"] for i in range(60)]
    with engine.begin() as connection:
        connection.execute(text("UPDATE deployments SET last_scheduled_for = :t0, next_run_at = :t0"), {"t0": T0})
    loops = [ScheduleLoop(engine=engine, settings=settings, scheduler_id=f"s{i}") for i in range(3)]

    for minute in range(1, 6):  # the three share one clock, as schedulers on one database do
        now = T0 + timedelta(minutes=minute, seconds=1)
        threads = [threading.Thread(target=loop.tick, args=(now,)) for loop in loops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with engine.connect() as connection:
        per_fire = connection.execute(
            text(
                "SELECT deployment_id, scheduled_for, count(*) FROM runs WHERE trigger = 'schedule' "
                "GROUP BY deployment_id, scheduled_for"
            )
        ).all()
    assert len(per_fire) == 60 * 5
    assert {n for *_, n in per_fire} == {1}
    assert {str(d) for d, *_ in per_fire} == set(ids)


def test_pause_records_missed_fire_times_on_resume(client: TestClient, pipeline: dict, engine: Engine) -> None:
    anchor = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    d = deploy(client, schedule={"kind": "interval", "seconds": 1, "anchor": anchor})
    assert client.post(f"/api/v1/deployments/{d['id']}/pause").json()["enabled"] is False
    assert client.post(f"/api/v1/deployments/{d['id']}/pause").status_code == 409
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE deployments SET last_scheduled_for = now() - interval '5 seconds' WHERE id = :id"),
            {"id": d["id"]},
        )
    resumed = client.post(f"/api/v1/deployments/{d['id']}/resume").json()
    assert resumed["enabled"] is True
    assert resumed["next_run_at"] is not None
    outcomes = client.get(f"/api/v1/deployments/{d['id']}/occurrences").json()["items"]
    assert len(outcomes) >= 4
    assert {o["outcome"] for o in outcomes} == {"paused"}
    assert {o["reason_code"] for o in outcomes} == {"paused"}


def test_backfill_a_past_window_runs_each_fire_time_once(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    d = deploy(
        client, schedule={"kind": "interval", "seconds": 3600, "anchor": anchor.isoformat()}, max_concurrent_runs=2
    )
    window = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T05:00:00Z"}
    first = client.post(f"/api/v1/deployments/{d['id']}/backfill", json=window)
    assert first.status_code == 201, first.text
    runs = first.json()["runs"]
    assert [r["scheduled_for"] for r in runs] == [f"2026-01-01T0{h}:00:00Z" for h in range(6)]
    assert {r["trigger"] for r in runs} == {"backfill"}
    again = client.post(f"/api/v1/deployments/{d['id']}/backfill", json=window).json()
    assert (again["runs"], again["already_had_a_run"]) == ([], 6)
    with engine.connect() as connection:  # buffer_all: held, sent two at a time (max_concurrent_runs=2)
        held = connection.execute(
            text("SELECT count(*) FROM runs WHERE deployment_id = :id AND held"), {"id": d["id"]}
        ).scalar_one()
    assert held == 6
    assert loop.tick(datetime.now(UTC)).released == 1
    assert loop.tick(datetime.now(UTC)).released == 1
    assert loop.tick(datetime.now(UTC)).released == 0


@pytest.mark.parametrize(
    ("window", "field", "code"),
    [
        ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end", "invalid_window"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2999-01-01T00:00:00Z"}, "end", "invalid_window"),
        (
            {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z", "max_runs": 10},
            "max_runs",
            "backfill_too_large",
        ),
        # These two answered 500: year 0 once in UTC (OverflowError), and a time without an offset (TypeError).
        ({"start": "0001-01-01T00:00:00+14:00", "end": "2026-01-01T00:00:00Z"}, "start", "time_out_of_range"),
        ({"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00Z"}, "start", "invalid_schedule"),
    ],
)
def test_bad_backfills_write_nothing(
    client: TestClient, pipeline: dict, engine: Engine, window: dict, field: str, code: str
) -> None:
    d = deploy(client, schedule={"kind": "interval", "seconds": 3600, "anchor": "2026-01-01T00:00:00Z"})
    response = client.post(f"/api/v1/deployments/{d['id']}/backfill", json=window)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == (code, field)
    with engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT count(*) FROM runs WHERE deployment_id = :id"), {"id": d["id"]}
            ).scalar_one()
            == 0
        )


def test_the_deployment_retry_policy_reaches_its_runs(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop, settings: Settings
) -> None:
    tuned = deploy(
        client, name="tuned", max_retries=4, retry_backoff_seconds=5, retry_backoff_max_seconds=50, retry_jitter=0.5
    )
    plain = deploy(client, name="plain")
    assert tuned["retry_backoff_seconds"] == 5
    for d in (tuned, plain):
        rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=1, seconds=1))
    manual = client.post(f"/api/v1/deployments/{tuned['id']}/trigger").json()
    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                text(
                    "SELECT d.name, array_agg(DISTINCT (r.max_retries, r.retry_backoff_seconds, "
                    "r.retry_backoff_max_seconds, r.retry_jitter)::text) "
                    "FROM runs r JOIN deployments d ON d.id = r.deployment_id GROUP BY d.name"
                )
            ).all()
        )
    assert rows["tuned"] == ["(4,5,50,0.5)"]  # scheduled and manual runs alike
    assert rows["plain"] == [
        f"({settings.default_max_retries},{settings.retry_backoff_seconds:g},"
        f"{settings.retry_backoff_max_seconds:g},{settings.retry_jitter:g})"
    ]
    assert manual["max_retries"] == 4


def test_the_fire_times_view_explains_every_fire_time(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    with engine.connect() as connection:  # answers on an empty database
        assert connection.execute(text("SELECT count(*) FROM fire_times")).scalar_one() == 0
    d = deploy(client, name="explained", misfire_policy="skip", misfire_grace_seconds=30)
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=3, seconds=5))
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT deployment, outcome, reason_code, run_status FROM fire_times "
                "WHERE deployment_id = :id ORDER BY scheduled_for"
            ),
            {"id": d["id"]},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("explained", "misfire_skipped", "misfire_grace", None),
        ("explained", "misfire_skipped", "misfire_grace", None),
        ("explained", "run", "ran", "PENDING"),
    ]
