"""The audit log: entries for successes and failures, in the change's transaction, append-only, exportable."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.settings import Settings
from tests.integration.conftest import make_user, sign_in


def entries(client: TestClient, **filters: str) -> list[dict]:
    response = client.get("/api/v1/audit", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_successful_change_leaves_one_success_entry(client: TestClient) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    created = client.post(
        "/api/v1/pipelines",
        json={"name": "audited", "spec": {"steps": []}},
        headers={"User-Agent": "audit-test/1.0", "X-Request-ID": request_id},
    )
    assert created.status_code == 201
    [entry] = [e for e in entries(client, action="pipelines.create") if e["request_id"] == request_id]
    assert entry["outcome"] == "success"
    assert entry["resource_type"] == "pipeline"
    assert entry["resource_id"] == created.json()["id"]
    assert entry["actor_name"] == "root"
    assert entry["user_agent"] == "audit-test/1.0"
    assert entry["client_address"]
    assert entry["details"]["after"]["name"] == "audited"


def test_the_csv_export_defuses_a_user_agent_a_spreadsheet_would_run(client: TestClient) -> None:
    """Anyone whose request is audited sets its User-Agent: the export is opened in Excel/WPS (CSV injection)."""
    request_id = f"req-{uuid.uuid4().hex}"
    agent = '=HYPERLINK("http://evil.example","open")'
    created = client.post(
        "/api/v1/pipelines",
        json={"name": "agent-check", "spec": {"steps": []}},
        headers={"User-Agent": agent, "X-Request-ID": request_id},
    )
    assert created.status_code == 201
    exported = client.get("/api/v1/audit/export", params={"format": "csv", "action": "pipelines.create"}).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    [row] = [r for r in rows if r["request_id"] == request_id]
    assert row["user_agent"] == "'" + agent
    [entry] = [e for e in entries(client, action="pipelines.create") if e["request_id"] == request_id]
    assert entry["user_agent"] == agent  # the JSON API keeps it exact


def test_a_failed_change_leaves_a_failure_entry_and_no_success(client: TestClient) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    client.post("/api/v1/pipelines", json={"name": "twice", "spec": {"steps": []}})
    again = client.post(
        "/api/v1/pipelines", json={"name": "twice", "spec": {"steps": []}}, headers={"X-Request-ID": request_id}
    )
    assert again.status_code == 409
    rows = [e for e in entries(client, action="pipelines.create") if e["request_id"] == request_id]
    assert [(e["outcome"], e["error_code"], e["status_code"]) for e in rows] == [
        ("failure", "pipeline_name_taken", 409)
    ]


def test_a_denied_change_is_recorded_as_denied(
    client: TestClient, anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    make_user(engine, fast_settings, "nosy")
    token = sign_in(anonymous, "nosy")["access_token"]
    denied = anonymous.post(
        "/api/v1/users",
        json={"username": "x", "password": "whatever long"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
    )
    assert denied.status_code == 403
    [entry] = [e for e in entries(client, action="users.create") if e["request_id"] == request_id]
    assert (entry["outcome"], entry["actor_name"]) == ("denied", "nosy")


def test_logins_are_audited_and_secrets_never_are(
    client: TestClient, anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    user_id = make_user(engine, fast_settings, "lou")
    sign_in(anonymous, "lou")
    anonymous.post("/api/v1/auth/login", json={"username": "lou", "password": "not the password"})
    logins = [e for e in entries(client, action="auth.login") if (e["details"] or {}).get("username") == "lou"]
    assert sorted(e["outcome"] for e in logins) == ["failure", "success"]
    # The actor of a sign-in is who signed in; of a refused one, the name as typed, with no user behind it.
    actors = {e["outcome"]: (e["actor_user_id"], e["actor_name"]) for e in logins}
    assert actors == {"success": (str(user_id), "lou"), "failure": (None, "lou")}
    assert [e["outcome"] for e in entries(client, action="auth.login", user_id=str(user_id))] == ["success"]
    temporary = client.post(f"/api/v1/users/{user_id}/reset-password").json()["temporary_password"]
    dump = json.dumps(entries(client, limit="1000"))
    assert "not the password" not in dump
    assert temporary not in dump


def test_the_audit_log_is_append_only(engine: Engine, client: TestClient) -> None:
    client.post("/api/v1/pipelines", json={"name": "immutable", "spec": {"steps": []}})
    for statement in ("UPDATE audit_log SET outcome = 'success'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_filters_and_pagination(client: TestClient, engine: Engine) -> None:
    with engine.connect() as connection:
        since = connection.execute(text("SELECT now()")).scalar_one().isoformat()
    for i in range(7):
        client.post("/api/v1/pipelines", json={"name": f"pp{i}", "spec": {"steps": []}})
    query = {"action": "pipelines.create", "since": since, "limit": 4}
    first = client.get("/api/v1/audit", params=query).json()
    second = client.get("/api/v1/audit", params={**query, "cursor": first["next_cursor"]}).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 7
    assert second["next_cursor"] is None
    assert ids == sorted(ids, reverse=True)
    assert entries(client, action="pipelines.create", outcome="failure", since=since) == []


@pytest.fixture
def ten_thousand_entries(engine: Engine) -> str:
    marker = f"bulk-{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(
            text("""
            INSERT INTO audit_log (action, outcome, resource_type, resource_id, request_id, details)
            SELECT :marker, 'success', 'run', gen_random_uuid()::text, 'req-' || i,
                   jsonb_build_object('i', i, 'padding', repeat('x', 200))
            FROM generate_series(1, 10000) i"""),
            {"marker": marker},
        )
    return marker


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_export_returns_every_matching_entry(client: TestClient, ten_thousand_entries: str, fmt: str) -> None:
    response = client.get("/api/v1/audit/export", params={"format": fmt, "action": ten_thousand_entries})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="audit.{fmt}"'
    if fmt == "ndjson":
        rows = [json.loads(line) for line in response.content.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 10_000
    assert {r["action"] for r in rows} == {ten_thousand_entries}


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_export_streams_in_batches_with_bounded_memory(engine: Engine, ten_thousand_entries: str, fmt: str) -> None:
    """The generator behind the endpoint yields batch by batch from a server-side cursor."""
    from sqlalchemy.orm import Session

    from app.domain.audit import AuditFilters, export
    from tests.integration.engine_parts import ROOT

    with Session(engine) as session:  # warm caches (compiled SQL, imports) outside the measurement
        next(iter(export(session, ROOT, AuditFilters(action=ten_thousand_entries), fmt=fmt, batch=500)))
    chunks = total = 0
    tracemalloc.start()
    with Session(engine) as session:
        for chunk in export(session, ROOT, AuditFilters(action=ten_thousand_entries), fmt=fmt, batch=500):
            chunks += 1
            total += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert chunks >= 20
    assert total > 2_500_000
    # loading every row first would need several times the export size; a batch at a time stays well under it
    assert peak < 0.75 * total, (peak, total)
