"""Webhook deliveries end to end: the event's transaction writes them, the sender posts them to a real receiver
on loopback, and the Standard Webhooks library (not our code) verifies every signature. Time is injected."""

from __future__ import annotations

import json
import uuid

from sqlalchemy.orm import Session

from app.core.states import RunStatus
from app.db.queries import query
from app.domain import webhooks
from app.domain.events import record_event
from app.domain.runs import cancel_run
from app.domain.webhook_sender import WebhookSender
from app.settings import Settings
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.webhook_support import (
    OCCURRENCES,
    deliveries,
    deployment_of_hello,
    end_attempt,
    subscribe,
    verified,
)
from tests.webhook_receiver import Receiver


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
        deployment_id = deployment_of_hello(session, ns, pipeline_id)
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
