"""The scheduler service's loops against real Postgres: they come back at once when the server drops their
sessions (pg_terminate_backend, a proxy), and they go by the database's clock, not the host's.

The service's error pause is a frozen clock here: a pause of 0 returns, any longer one never ends while the test
runs. So a loop that waits out a drop before reconnecting never listens again, and the run and the deployment
made after the drop are never handled: the test sees what happened, it times nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec
import psycopg
import pytest
from httpx import Response
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.core.states import RunStatus
from app.settings import Settings
from scheduler.service import SchedulerService
from tests.integration.engine_parts import Engine_

CHANNELS = ("LISTEN conveyor_outbox", "LISTEN conveyor_deployments")
#: How long an event may take to happen before the test gives up on it (not a measure of anything).
PATIENCE = 30.0


class FrozenClock:
    """The service's error pause: records each pause asked for; 0 returns at once, any other lasts until stop."""

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping
        self.asked: list[float] = []

    def pause(self, seconds: float) -> bool:
        self.asked.append(seconds)
        if seconds > 0:
            self.stopping.wait()
        return self.stopping.is_set()


def wait_for(condition, what: str):  # type: ignore[no-untyped-def]
    """Poll `condition` until it gives something true (an event, not a duration: PATIENCE only ends a hung test)."""
    give_up = time.monotonic() + PATIENCE
    while not (found := condition()):
        assert time.monotonic() < give_up, f"never happened: {what}"
        time.sleep(0.02)
    return found


def listeners(settings: Settings) -> dict[str, int]:
    """The sessions LISTENing on the scheduler's channels in the test's database: their statement → pid."""
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query, pid FROM pg_stat_activity WHERE datname = current_database() AND query = ANY(%s)",
            (list(CHANNELS),),
        ).fetchall()
    return dict(rows)


def drop_every_session(settings: Settings) -> int:
    """pg_terminate_backend on every other session of the test's database (its pools find out on their own)."""
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        return len(
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        )


@pytest.fixture
def service(settings: Settings, parts: Engine_) -> Iterator[tuple[SchedulerService, FrozenClock]]:
    """The relay and schedule loops of a real SchedulerService, in threads, with the frozen error pause."""
    stopping = threading.Event()
    clock = FrozenClock(stopping)
    built = SchedulerService(msgspec.structs.replace(settings, relay_threads=1), error_pause=clock.pause)
    built.stopping = stopping
    threads = [threading.Thread(target=loop, daemon=True) for loop in (built._relay_loop, built._schedule_loop)]
    for thread in threads:
        thread.start()
    try:
        yield built, clock
    finally:
        stopping.set()
        for thread in threads:
            thread.join(timeout=PATIENCE)
        built.broker.close()


def status(engine: Engine, run_id: object) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT status FROM runs WHERE id = :id"), {"id": run_id}).scalar_one())


def deploy_soon(client: TestClient, name: str, *, every: int, **policies: str) -> tuple[datetime, Response]:
    """A deployment of the `noop` pipeline firing every `every` seconds from two seconds on: (its first fire time,
    the API's answer)."""
    soon = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    anchor = (soon - timedelta(seconds=every)).isoformat()
    schedule = {"kind": "interval", "seconds": every, "anchor": anchor}
    made = client.post("/api/v1/deployments", json={"name": name, "pipeline": "noop", "schedule": schedule, **policies})
    assert made.status_code == 201, made.text
    return soon, made


def test_after_its_sessions_are_dropped_the_scheduler_listens_again_at_once_and_handles_what_came_meanwhile(
    service: tuple[SchedulerService, FrozenClock],
    parts: Engine_,
    client: TestClient,
    pipeline: dict,
    settings: Settings,
    engine: Engine,
) -> None:
    _scheduler, clock = service
    # Given the scheduler listening, and relaying a first run
    before = wait_for(lambda: (found := listeners(settings)).keys() == set(CHANNELS) and found, "both LISTENs")
    [first] = parts.submit("noop")
    wait_for(lambda: status(engine, first) == RunStatus.QUEUED, "the first run to be relayed")

    # When the server drops every session of the database
    assert drop_every_session(settings) >= 2

    # Then both loops listen again on new sessions, having paused for nothing
    def relistened() -> bool:
        now = listeners(settings)
        return now.keys() == set(CHANNELS) and not set(now.values()) & set(before.values())

    wait_for(relistened, "both LISTENs on new sessions")
    assert clock.asked, "the drop was never noticed as an error: the test proves nothing"
    assert all(pause == 0 for pause in clock.asked), clock.asked

    # And a run submitted and a deployment made after the drop are handled (relayed; planned) with no time passing
    [second] = parts.submit("noop")
    wait_for(lambda: status(engine, second) == RunStatus.QUEUED, "the run submitted after the drop to be relayed")
    assert str(second) in parts.queued_messages()
    soon, made = deploy_soon(client, "after-the-drop", every=3600)

    def planned() -> list[datetime]:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text("SELECT scheduled_for FROM runs WHERE deployment_id = :id"), {"id": made.json()["id"]}
                ).scalars()
            )

    assert wait_for(planned, "the new deployment's fire time to be planned") == [soon]
    assert all(pause == 0 for pause in clock.asked), clock.asked


def test_a_host_clock_an_hour_fast_neither_misses_nor_runs_early_the_fire_times_to_come(
    service: tuple[SchedulerService, FrozenClock],
    client: TestClient,
    pipeline: dict,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop ticked with its host's clock: an hour ahead (a clock stepped, a replica on a skewed host), it took
    the coming hour's fire times for missed ones and coalesced them into one run."""

    class HourFast(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.now(tz) + timedelta(hours=1)

    monkeypatch.setattr("scheduler.service.datetime", HourFast)
    # Given a deployment firing every minute from two seconds on, made once the host's clock runs an hour fast
    soon, made = deploy_soon(client, "every-minute", every=60, misfire_policy="run_once", overlap_policy="allow")

    def handled() -> list[tuple[datetime, str]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT scheduled_for, outcome FROM occurrences WHERE deployment_id = :id ORDER BY 1"),
                {"id": made.json()["id"]},
            ).all()
        return [(at, outcome) for at, outcome in rows]

    # When the scheduler handles it, Then its first fire time makes a run, and none is taken for missed
    assert wait_for(handled, "the deployment's first fire time to be handled") == [(soon, "run")]
