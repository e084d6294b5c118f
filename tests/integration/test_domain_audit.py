"""Changes audited in the domain: the API's rows stay as they were, and a caller without a request writes them too."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.db.database import database_for
from app.domain import members
from app.domain.audit import AuditContext


def _one(client: TestClient, action: str, resource_id: str) -> dict:
    response = client.get("/api/v1/audit", params={"action": action, "resource_id": resource_id})
    assert response.status_code == 200, response.text
    [entry] = response.json()["items"]
    return entry


def test_token_and_namespace_changes_through_the_api_keep_their_audit_rows(client: TestClient) -> None:
    namespace = client.post("/api/v1/namespaces", json={"name": "audited-ns"})
    assert namespace.status_code == 201, namespace.text
    entry = _one(client, "namespaces.create", namespace.json()["id"])
    assert (entry["actor_name"], entry["resource_type"], entry["details"]) == (
        "root",
        "namespace",
        {"name": "audited-ns"},
    )

    token = client.post("/api/v1/tokens", json={"name": "batch", "namespace": "audited-ns", "role": "operator"})
    assert token.status_code == 201, token.text
    token_id = token.json()["id"]
    created = _one(client, "tokens.create", token_id)
    assert created["resource_type"] == "token"
    assert {k: created["details"][k] for k in ("name", "role")} == {"name": "batch", "role": "operator"}
    assert created["details"]["expires_at"]
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert _one(client, "tokens.revoke", token_id)["details"] == {"name": "batch"}


def test_a_domain_call_without_a_request_writes_the_audit_row(engine: Engine) -> None:
    """As the CLI or a worker calls the domain: the row is written in the change's transaction, actor named."""
    worker = AuditContext(principal=None, actor_name="worker (nightly provisioning)")
    with database_for(engine).transaction() as session:
        made = members.create_namespace(session, members.NewNamespace(name="made-offline"), audit_as=worker)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT actor_user_id, actor_name, resource_type, namespace_id, details FROM audit_log "
                "WHERE action = 'namespaces.create' AND resource_id = :id"
            ),
            {"id": str(made.id)},
        ).one()
    assert row.actor_user_id is None
    assert row.actor_name == "worker (nightly provisioning)"
    assert (row.resource_type, row.namespace_id, row.details) == ("namespace", made.id, {"name": "made-offline"})
