"""Webhook deliveries end to end: the event's transaction writes them, the sender posts them to a real receiver
on loopback, and the Standard Webhooks library (not our code) verifies every signature. Time is injected."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.core.states import RunStatus, sources
from app.db.queries import query
from app.domain import webhook_log, webhooks
from app.domain.attempts import NO_LOG_LINES
from app.domain.audit import AuditContext
from app.domain.events import record_event
from app.domain.runs import cancel_run
from app.domain.webhook_sender import WebhookSender
from app.settings import Settings
from scheduler.cleanup import Cleanup
from tests.integration.engine_parts import ROOT, Engine_
from tests.webhook_receiver import Answer, Receiver

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


def test_each_event_type_arrives_signed_as_documented(
    parts: Engine_, hook_settings: Settings, receiver: Receiver, sender: WebhookSender
) -> None:
    sub = subscribe(parts.engine, hook_settings, receiver.url)
    pipeline_id = parts.pipeline("hello", [{"type": "log", "message": "hi"}])
    ok, failed, timed_out, cancelled = parts.submit("hello", 4)
    parts.relay.relay_once()
    assert parts.executor.execute(ok) is RunStatus.SUCCEEDED
    end_attempt(parts, failed, RunStatus.FAILED)
    end_attempt(parts, timed_out, RunStatus.TIMED_OUT)
    dataset_id = uuid.uuid4()
    with Session(parts.engine) as session, session.begin():
        cancel_run(session, cancelled, ROOT)
        ns = sub.namespace_id
        record_event(
            session,
            "dataset.ingested",
            producer="t",
            namespace_id=ns,
            dataset_id=dataset_id,
            dataset_version=1,
            run_id=ok,
            payload={"rows": 3},
        )
        record_event(
            session,
            "dataset.import.failed",
            producer="t",
            namespace_id=ns,
            dataset_id=dataset_id,
            run_id=failed,
            payload={"error_code": "bad_file"},
        )
        record_event(session, "dataset.generated", producer="t", namespace_id=ns, dataset_id=dataset_id)
        deployment_id = _deployment(session, ns, pipeline_id)
        occurrences = [
            {
                "deployment_id": str(deployment_id),
                "scheduled_for": f"2026-01-01T0{h}:00:00Z",
                "outcome": outcome,
                "run_id": None,
                "reason": f"why {code}",
                "reason_code": code,
            }
            for h, (outcome, code) in enumerate(OCCURRENCES.items())
        ]
        session.execute(query("insert_occurrences"), {"rows": json.dumps(occurrences)})
    assert len(deliveries(parts.engine)) == 8  # one per event type: none for dataset.generated, run, buffered

    assert sender.send_once() == 8
    got = {p["type"]: p for p in verified(receiver, 8, sub.secret)}
    assert sorted(got) == sorted(webhooks.EVENT_TYPES)
    assert all(p["version"] == 1 and p["timestamp"].endswith("Z") for p in got.values())
    run = got["run.succeeded"]["data"]
    assert (run["run_id"], run["status"], run["pipeline_id"]) == (str(ok), "SUCCEEDED", str(pipeline_id))
    assert run["links"]["run"] == f"/api/v1/runs/{ok}"
    assert got["run.failed"]["data"]["error_code"] == "boom"
    assert got["run.timed_out"]["data"]["run_id"] == str(timed_out)
    assert got["run.cancelled"]["data"]["run_id"] == str(cancelled)
    assert got["dataset.ingested"]["data"]["details"] == {"rows": 3}
    assert got["dataset.ingested"]["data"]["links"]["dataset"] == f"/api/v1/datasets/{dataset_id}"
    assert got["dataset.import.failed"]["data"]["details"] == {"error_code": "bad_file"}
    occurrence_events = [got[t]["data"] for t in ("deployment.misfired", "deployment.run_skipped")]
    assert [(d["outcome"], d["reason_code"], d["reason"]) for d in occurrence_events] == [
        ("misfire_skipped", "misfire_grace", "why misfire_grace"),
        ("overlap_skipped", "overlap_limit", "why overlap_limit"),
    ]
    assert (
        got["deployment.misfired"]["data"]["fire_times"],
        got["deployment.misfired"]["data"]["first_scheduled_for"],
    ) == (1, None)
    assert got["deployment.run_skipped"]["data"]["deployment_id"] == str(deployment_id)
    assert {d.status for d in deliveries(parts.engine)} == {"succeeded"}


def _deployment(session: Session, namespace_id: uuid.UUID, pipeline_id: uuid.UUID) -> uuid.UUID:
    from app.domain.deployment_documents import DeploymentIn
    from app.domain.deployments import create_deployment
    from app.scheduling.spec import IntervalSpec

    document = DeploymentIn(name="every-hour", pipeline="hello", schedule=IntervalSpec(seconds=3600))
    return create_deployment(session, document, ROOT, Settings(), now=datetime.now(UTC)).id


def test_no_subscription_writes_nothing_and_filters_narrow(parts: Engine_, hook_settings: Settings) -> None:
    parts.pipeline("hello", [])
    other = parts.pipeline("other", [])
    [first] = parts.submit("hello")
    parts.relay.relay_once()
    parts.executor.execute(first)
    assert deliveries(parts.engine) == []
    subscribe(parts.engine, hook_settings, "http://127.0.0.1:9/", ["run.succeeded"], pipeline_id=other)
    [second] = parts.submit("hello")
    parts.relay.relay_once()
    assert parts.executor.execute(second) is RunStatus.SUCCEEDED
    assert deliveries(parts.engine) == []


def test_a_receiver_failing_for_a_while_gets_it_in_the_end(
    engine: Engine, hook_settings: Settings, receiver: Receiver, sender: WebhookSender, clock: Clock
) -> None:
    sub = subscribe(engine, hook_settings, receiver.url)
    receiver.script.extend([Answer(status=500, body=b"down"), Answer(delay_seconds=1.5), Answer(status=200)])
    with Session(engine) as session, session.begin():
        webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    assert sender.send_once() == 1  # 500
    assert sender.send_once() == 0  # not due again yet
    assert 9 <= sender.wait_seconds(60) <= 12  # backoff 10 s, +20 % jitter at most
    clock.advance(12)
    assert sender.send_once() == 1  # times out
    clock.advance(24)
    assert sender.send_once() == 1  # 200
    [delivery] = deliveries(engine)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    log = attempts_of(engine, delivery.id)
    assert [(a.status_code, a.error) for a in log] == [(500, None), (None, "timeout"), (200, None)]
    assert log[0].response_excerpt == "down"
    bodies = {r.headers["webhook-id"] for r in receiver.wait_for(2)}
    assert bodies == {delivery.message_id}  # one message id on every attempt
    with Session(engine) as session:
        assert webhooks.get_webhook(session, ROOT, sub.id).failing_since is None


def test_a_subscription_failing_for_long_is_disabled_and_audited(
    engine: Engine, hook_settings: Settings, receiver: Receiver, sender: WebhookSender, clock: Clock
) -> None:
    sub = subscribe(engine, hook_settings, receiver.url)
    receiver.script.extend([Answer(status=503)] * 5)
    with Session(engine) as session, session.begin():
        webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    sender.send_once()
    clock.advance(2 * 3600)  # longer than webhook_disable_after_hours
    sender.send_once()
    with Session(engine) as session:
        row = webhooks.get_webhook(session, ROOT, sub.id)
        assert not row.enabled
        assert row.disabled_reason.startswith("every delivery failed since")
        audited = session.execute(
            text("SELECT actor_name FROM audit_log WHERE action = 'webhooks.disable' AND resource_id = :id"),
            {"id": str(sub.id)},
        ).all()
        assert [a.actor_name for a in audited] == ["webhook-sender"]
    clock.advance(3600)
    sender.send_once()
    [delivery] = deliveries(engine)
    assert delivery.status == "failed"
    assert attempts_of(engine, delivery.id)[-1].error == "the subscription is disabled"


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one(
    engine: Engine, hook_settings: Settings, receiver: Receiver, sender: WebhookSender, clock: Clock
) -> None:
    sub = subscribe(engine, hook_settings, receiver.url)
    with Session(engine) as session, session.begin():
        new_secret = webhooks.rotate_secret(
            session, ROOT, sub.id, webhooks.Rotation(grace_seconds=600), hook_settings, audit_as=AS_ROOT
        ).secret
        webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    sender.send_once()
    [during] = receiver.wait_for(1)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (sub.secret, new_secret):
        assert Webhook(secret).verify(during.body, during.headers)["type"] == "webhook.test"
    clock.advance(601)
    with Session(engine) as session, session.begin():
        webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    sender.send_once()
    after = receiver.wait_for(2)[1]
    Webhook(new_secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(sub.secret).verify(after.body, after.headers)


def test_redirects_are_not_followed_and_a_past_delivery_can_be_redelivered(
    engine: Engine, hook_settings: Settings, receiver: Receiver, sender: WebhookSender
) -> None:
    sub = subscribe(engine, hook_settings, receiver.url)
    receiver.script.append(Answer(status=302, location="http://169.254.169.254/latest/meta-data"))
    with Session(engine) as session, session.begin():
        first = webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
        first_id, message_id = first.id, first.message_id
    sender.send_once()
    [attempt] = attempts_of(engine, first_id)
    assert attempt.status_code == 302
    assert "not followed" in attempt.error
    assert len(receiver.wait_for(1)) == 1
    with Session(engine) as session, session.begin():
        again = webhook_log.redeliver(session, ROOT, sub.id, first_id, audit_as=AS_ROOT)
        assert again.redelivery_of == first_id
    sender.send_once()
    second = receiver.wait_for(2)[1]
    assert second.headers["webhook-id"] == message_id


def test_links_are_absolute_under_the_public_url(engine: Engine, hook_settings: Settings, receiver: Receiver) -> None:
    sub = subscribe(engine, hook_settings, receiver.url)
    public = msgspec.structs.replace(hook_settings, public_url="https://conveyor.example.com/")
    with Session(engine) as session, session.begin():
        webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    sending = WebhookSender(engine=engine, settings=public)
    try:
        sending.send_once()
    finally:
        sending.close()
    [payload] = verified(receiver, 1, sub.secret)
    assert payload["data"]["links"] == {"webhook": f"https://conveyor.example.com/api/v1/webhooks/{sub.id}"}
    [stored] = deliveries(engine)
    assert stored.payload["data"]["links"]["webhook"] == f"/api/v1/webhooks/{sub.id}"


def test_targets_are_checked_again_at_each_send(engine: Engine, hook_settings: Settings, receiver: Receiver) -> None:
    sub = subscribe(engine, hook_settings, receiver.url)  # allowed when it was created
    strict = WebhookSender(engine=engine, settings=msgspec.structs.replace(hook_settings, webhook_allow_private=False))
    try:
        with Session(engine) as session, session.begin():
            delivery_id = webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT).id
        strict.send_once()
    finally:
        strict.close()
    [attempt] = attempts_of(engine, delivery_id)
    assert attempt.error.startswith("webhook_url_forbidden")
    assert receiver.received == []


def test_a_sender_that_dies_after_claiming_loses_nothing(
    engine: Engine, hook_settings: Settings, receiver: Receiver, sender: WebhookSender, clock: Clock
) -> None:
    from app.domain.webhook_sender import LEASE_SECONDS

    sub = subscribe(engine, hook_settings, receiver.url)
    with Session(engine) as session, session.begin():
        webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    with engine.begin() as connection:  # a sender claims the delivery, then its process is killed
        claim = {"now": clock(), "batch": 10, "lease_seconds": LEASE_SECONDS}
        assert len(connection.execute(query("claim_webhook_deliveries"), claim).all()) == 1
    assert sender.send_once() == 0  # leased: nobody sends it twice at once
    clock.advance(LEASE_SECONDS + 1)
    assert sender.send_once() == 1
    [delivery] = deliveries(engine)
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    Webhook(sub.secret).verify(receiver.wait_for(1)[0].body, receiver.wait_for(1)[0].headers)


def test_finished_deliveries_past_retention_are_deleted_and_pending_ones_kept(
    engine: Engine, hook_settings: Settings
) -> None:
    sub = subscribe(engine, hook_settings, "http://127.0.0.1:9/")
    with Session(engine) as session, session.begin():
        for _ in range(3):
            webhook_log.send_test(session, ROOT, sub.id, audit_as=AS_ROOT)
    old, done, pending = deliveries(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, latency_ms) "
                "VALUES (:id, 1, now(), 1)"
            ),
            {"id": old.id},
        )
        connection.execute(
            text("UPDATE webhook_deliveries SET status = 'failed', created_at = :long_ago WHERE id = :id"),
            {"id": old.id, "long_ago": datetime.now(UTC) - timedelta(days=31)},
        )
        connection.execute(text("UPDATE webhook_deliveries SET status = 'succeeded' WHERE id = :id"), {"id": done.id})
        connection.execute(
            text("UPDATE webhook_deliveries SET created_at = now() - interval '31 days' WHERE id = :id"),
            {"id": pending.id},
        )
    assert Cleanup(engine=engine, settings=hook_settings).run_once()["webhook_deliveries"] == 1
    assert {d.id for d in deliveries(engine)} == {done.id, pending.id}  # recent, and pending however old
    assert attempts_of(engine, old.id) == []
    keep = msgspec.structs.replace(hook_settings, webhook_delivery_retention_days=0)
    assert Cleanup(engine=engine, settings=keep).run_once()["webhook_deliveries"] == 0
