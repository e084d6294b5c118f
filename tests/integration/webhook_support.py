"""What the webhook delivery tests share: a receiver on loopback, an injected clock, the sender, subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from app.core.states import RunStatus, sources
from app.db.queries import query
from app.domain import webhooks
from app.domain.attempts import NO_LOG_LINES
from app.domain.audit import AuditContext
from app.domain.webhook_sender import WebhookSender
from app.settings import Settings
from tests.integration.engine_parts import ROOT, Engine_
from tests.webhook_receiver import Receiver

AS_ROOT = AuditContext(principal=ROOT)
#: Occurrences written by hand (outcome: reason_code): a deployment.misfired event, a run_skipped one, and none.
OCCURRENCES = dict(misfire_skipped="misfire_grace", overlap_skipped="overlap_limit", run="ran", buffered="buffered")


class Clock:
    """The sender's clock: the wall clock, moved ahead by hand (deliveries are stamped by the database's)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        webhook_allow_private=True,
        webhook_timeout_seconds=0.5,
        webhook_concurrency=4,
        webhook_backoff_seconds=10.0,
        webhook_max_attempts=4,
        webhook_disable_after_hours=1.0,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(engine: Engine, hook_settings: Settings, clock: Clock) -> Iterator[WebhookSender]:
    built = WebhookSender(engine=engine, settings=hook_settings, clock=clock)
    yield built
    built.close()


def subscribe(engine: Engine, settings: Settings, url: str, types: list[str] | None = None, **extra: Any) -> Any:
    with Session(engine) as session, session.begin():
        new = webhooks.NewWebhook(url=url, event_types=types or list(webhooks.EVENT_TYPES), **extra)
        row = webhooks.create_webhook(session, ROOT, new, settings, audit_as=AS_ROOT)
        session.expunge(row)
        return row


def deliveries(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(text("SELECT * FROM webhook_deliveries ORDER BY created_at, id")).all()


def attempts_of(engine: Engine, delivery_id: uuid.UUID) -> list[Any]:
    with engine.connect() as connection:
        sql = "SELECT * FROM webhook_attempts WHERE delivery_id = :id ORDER BY id"
        return connection.execute(text(sql), {"id": delivery_id}).all()


def end_attempt(parts: Engine_, run_id: uuid.UUID, status: RunStatus) -> None:
    """Start the run and end its attempt in `status`, with the statements the executor and reaper use."""
    with parts.engine.begin() as connection:
        started = connection.execute(
            query("start_runs"), {"run_ids": [run_id], "worker_id": "w", "from_statuses": sources(RunStatus.RUNNING)}
        ).one()
        connection.execute(
            query("finish_run"),
            {
                "run_id": run_id,
                "attempt": started.attempt,
                "to_status": status.value,
                "from_statuses": sources(status, [RunStatus.RUNNING]),
                "error_code": "boom",
                "error_message": "it broke",
                "progress": None,
                "log_lines": 0,
                "reason": "failed",
                "actor": "w",
                "details": "{}",
                **NO_LOG_LINES,
            },
        )


def verified(receiver: Receiver, count: int, secret: str) -> list[dict[str, Any]]:
    """The first `count` payloads received, each verified with the Standard Webhooks library."""
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.wait_for(count)]


def deployment_of_hello(session: Session, namespace_id: uuid.UUID, pipeline_id: uuid.UUID) -> uuid.UUID:
    from app.domain.deployment_documents import DeploymentIn
    from app.domain.deployments import create_deployment
    from app.scheduling.spec import IntervalSpec

    document = DeploymentIn(name="every-hour", pipeline="hello", schedule=IntervalSpec(seconds=3600))
    return create_deployment(session, document, ROOT, Settings(), now=datetime.now(UTC)).id
