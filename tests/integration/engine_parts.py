"""The engine's parts wired in-process to real Postgres and Redis: submit, relay, execute, reap."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.core.states import RunTrigger
from app.domain.lanes import lane_queues
from app.domain.permissions import Principal
from app.domain.pipelines import create_pipeline
from app.domain.runs import RunRequest, submit_runs
from app.settings import Settings
from scheduler.reaper import Reaper
from scheduler.relay import Relay
from workers.broker import build_broker, messages_key
from workers.executor import Executor
from workers.runtime import ActiveRuns

#: An instance admin, for calls that the tests make directly to the domain.
ROOT = Principal(user_id=uuid.UUID(int=1), username="test", is_superuser=True)


@dataclass
class Engine_:
    settings: Settings
    engine: Engine
    broker: RedisBroker
    relay: Relay
    executor: Executor
    reaper: Reaper
    active: ActiveRuns

    def pipeline(self, name: str, steps: list[dict[str, Any]]) -> uuid.UUID:
        with Session(self.engine) as session, session.begin():
            pipeline, _ = create_pipeline(
                session, namespace="default", name=name, description="", spec={"steps": steps}
            )
            return pipeline.id

    def submit(
        self, pipeline: str, count: int = 1, *, trigger: RunTrigger = RunTrigger.API, **options: Any
    ) -> list[uuid.UUID]:
        with Session(self.engine) as session, session.begin():
            requests = [RunRequest(pipeline=pipeline, **options) for _ in range(count)]
            created = submit_runs(session, requests, trigger=trigger, principal=ROOT, settings=self.settings)
            return [run.id for run in created]

    def queued_messages(self, queue: str | None = None) -> list[str]:
        """Run ids of the messages waiting in the broker's queue (the interactive lane unless `queue` names another)."""
        return [m.args[0] for m in self.queued(queue)]

    def queued(self, queue: str | None = None) -> list[Any]:
        """The messages (dramatiq.Message) waiting in `queue` (default: the interactive lane)."""
        import dramatiq

        raw = self.broker.client.hvals(messages_key(self.broker, queue or self.settings.queue))
        return [dramatiq.Message.decode(m) for m in raw]

    def queued_messages_for(self, redis_message_id: bytes) -> str:
        """The run id of one message in the broker's queue."""
        import dramatiq

        raw = self.broker.client.hget(messages_key(self.broker, self.settings.queue), redis_message_id)
        return str(dramatiq.Message.decode(raw).args[0])

    def drain(self) -> None:
        """Empty the broker's queues (both lanes)."""
        for queue in lane_queues(self.settings.queue):
            self.broker.flush(queue)


def lapse_and_reap(parts: Engine_, run_id: str) -> None:
    """The run's attempt loses its lease (its worker paused, or was killed): the reaper retries the run, whose retry
    is sent at once, or ends it."""
    with parts.engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
    assert parts.reaper.reap_lost() == 1
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET available_at = now() WHERE run_id = :id"), {"id": run_id})
    parts.relay.relay_once()


@pytest.fixture
def parts(settings: Settings, engine: Engine, redis_client: redis.Redis) -> Iterator[Engine_]:
    broker = build_broker(settings)
    active = ActiveRuns()
    built = Engine_(
        settings=settings,
        engine=engine,
        broker=broker,
        relay=Relay(engine=engine, broker=broker, relay_id="relay-test", batch=settings.relay_batch),
        executor=Executor(engine=engine, redis_client=redis_client, settings=settings, active=active),
        reaper=Reaper(engine=engine, broker=broker, settings=settings, reaper_id="reaper-test"),
        active=active,
    )
    built.drain()
    yield built
    built.drain()
    built.executor.transitions.close()  # its writer's session: one left open a test ran out the server's 100
    broker.close()
