"""Webhook sending over time: a receiver failing for a while or for long, secret rotation, redirects, absolute
links, targets checked at each send, a sender dying after its claim, retention. Time is injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.db.queries import query
from app.domain import webhook_log, webhooks
from app.domain.webhook_sender import WebhookSender
from app.settings import Settings
from scheduler.cleanup import Cleanup
from tests.integration.engine_parts import ROOT
from tests.integration.webhook_support import (
    AS_ROOT,
    Clock,
    attempts_of,
    deliveries,
    subscribe,
    verified,
)
from tests.webhook_receiver import Answer, Receiver


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
