"""/api/v1/webhooks: subscriptions, the secret shown once, rotation, RBAC, and the SSRF checks at creation."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.api.app import create_app
from app.domain import webhooks
from app.domain.members import NewNamespace, create_namespace, set_member
from app.domain.permissions import Role
from app.domain.users import NewUser, create_user
from app.settings import Settings
from tests.integration.conftest import ADMIN_PASSWORD, make_user, sign_in

EVENTS = ["run.succeeded", "run.failed"]


@pytest.fixture
def allow_private(fast_settings: Settings) -> Settings:
    return msgspec.structs.replace(fast_settings, webhook_allow_private=True)


@pytest.fixture
def api(allow_private: Settings, engine: Engine, redis_client) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API signed in as `root`, allowing private targets (the tests' receivers are on loopback)."""
    with TestClient(app=create_app(allow_private)) as test_client:
        make_user(engine, allow_private, "root", superuser=True)
        test_client.headers["Authorization"] = f"Bearer {sign_in(test_client, 'root')['access_token']}"
        yield test_client


def _member(engine: Engine, settings: Settings, client: TestClient, name: str, role: Role) -> dict[str, str]:
    with Session(engine) as session, session.begin():
        default = session.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
        user = create_user(session, NewUser(username=name, password=ADMIN_PASSWORD), settings)
        set_member(session, default, user.id, role)
    return {"Authorization": f"Bearer {sign_in(client, name)['access_token']}"}


def test_a_subscription_shows_its_secret_once(api: TestClient) -> None:
    created = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "event_types": EVENTS})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == EVENTS
    assert body["enabled"]
    read = api.get(f"/api/v1/webhooks/{body['id']}").json()
    assert "secret" not in read
    assert read["url"] == "http://127.0.0.1:9/hook"
    listed = api.get("/api/v1/webhooks", params={"namespace": "default"}).json()
    assert [w["id"] for w in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0]

    changed = api.patch(f"/api/v1/webhooks/{body['id']}", json={"enabled": False, "event_types": ["run.cancelled"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False
    assert changed.json()["disabled_reason"] == "disabled by an admin"
    assert api.post(f"/api/v1/webhooks/{body['id']}/test").json()["code"] == "webhook_disabled"
    assert api.delete(f"/api/v1/webhooks/{body['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{body['id']}").json()["code"] == "webhook_not_found"


def test_rotation_gives_a_new_secret_and_keeps_the_old_one_for_a_grace_period(api: TestClient) -> None:
    created = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/", "event_types": EVENTS}).json()
    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret", json={"grace_seconds": 600})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_until"] is not None


def test_a_private_target_is_refused_with_a_problem(client: TestClient) -> None:
    """The full table of refused addresses is in tests/unit/test_webhook_targets.py."""
    response = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:8000/", "event_types": EVENTS})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "webhook_url_forbidden"
    assert response.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[64:ff9b::a9fe:a9fe]/"])
def test_metadata_addresses_stay_refused_when_private_ones_are_allowed(api: TestClient, url: str) -> None:
    """The second is the first through a NAT64 gateway (RFC 6052), which was taken as a public IPv6 address."""
    response = api.post("/api/v1/webhooks", json={"url": url, "event_types": EVENTS})
    assert response.json()["code"] == "webhook_url_forbidden"


def test_unknown_event_types_are_refused_at_their_field(api: TestClient) -> None:
    response = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/", "event_types": ["run.exploded"]})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["errors"][0]["field"] == "event_types[0]"


def test_the_openapi_document_lists_the_event_types(api: TestClient) -> None:
    """Clients (the console's checkboxes) take the event types from the document."""
    schemas = api.get("/api/docs/openapi.json").json()["components"]["schemas"]
    items = schemas["NewWebhook"]["properties"]["event_types"]["items"]
    assert items["enum"] == list(webhooks.EVENT_TYPES)


def test_the_list_shows_each_subscriptions_newest_delivery(api: TestClient) -> None:
    quiet = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/a", "event_types": EVENTS}).json()
    tested = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/b", "event_types": EVENTS}).json()
    first = api.post(f"/api/v1/webhooks/{tested['id']}/test").json()
    second = api.post(f"/api/v1/webhooks/{tested['id']}/test").json()
    assert first["id"] != second["id"]

    listed = {w["id"]: w for w in api.get("/api/v1/webhooks").json()["items"]}
    assert listed[quiet["id"]]["last_delivery"] is None
    last = listed[tested["id"]]["last_delivery"]
    assert last["id"] == second["id"]
    assert (last["event_type"], last["status"], last["attempts"]) == ("webhook.test", "pending", 0)
    assert api.get(f"/api/v1/webhooks/{tested['id']}").json()["last_delivery"]["id"] == second["id"]


def test_only_namespace_admins_manage_webhooks(api: TestClient, engine: Engine, allow_private: Settings) -> None:
    created = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/", "event_types": EVENTS}).json()
    editor = _member(engine, allow_private, api, "editor", Role.EDITOR)
    admin = _member(engine, allow_private, api, "nsadmin", Role.ADMIN)
    assert api.get("/api/v1/webhooks", headers=editor).status_code == 403
    assert api.get(f"/api/v1/webhooks/{created['id']}", headers=editor).status_code == 403
    new = {"url": "http://127.0.0.1:9/", "event_types": EVENTS}
    assert api.post("/api/v1/webhooks", json=new, headers=editor).status_code == 403
    assert api.post("/api/v1/webhooks", json=new, headers=admin).status_code == 201
    assert api.get(f"/api/v1/webhooks/{created['id']}", headers=admin).status_code == 200
    with Session(engine) as session, session.begin():
        create_namespace(session, NewNamespace(name="other"))
    elsewhere = api.post("/api/v1/webhooks", json={**new, "namespace": "other"}, headers=admin)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["code"] == "namespace_not_found"


def test_the_list_finds_subscriptions_by_part_of_their_address_or_description(api: TestClient) -> None:
    """The console's Webhooks page and the audit log's webhook picker search the server: past the first page too."""

    def create(url: str, description: str) -> str:
        response = api.post("/api/v1/webhooks", json={"url": url, "event_types": EVENTS, "description": description})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    oldest = create("http://127.0.0.1:9/reports", "夜间报表 Nightly_Report")
    for n in range(55):  # more than a page of newer subscriptions
        create(f"http://127.0.0.1:9/hook-{n}", f"filler {n}")

    def found(**params: object) -> list[str]:
        response = api.get("/api/v1/webhooks", params=params)
        assert response.status_code == 200, response.text
        return [w["id"] for w in response.json()["items"]]

    assert oldest not in found(limit=50)
    assert found(search="nightly_REPORT") == [oldest]  # the description, any case
    assert found(search="夜间") == [oldest]
    assert found(search="/REPORTS") == [oldest]  # the address
    assert len(found(search="hook-5")) == 1 + 5  # hook-5 and hook-50 … hook-54
    assert found(search="nigh_ly") == []  # `_` and `%` as typed, not wildcards
    assert found(search="nightly%report") == []
    assert found(search="nightly", namespace="default") == [oldest]
    too_long = api.get("/api/v1/webhooks", params={"search": "x" * 201})
    assert (too_long.status_code, too_long.json()["errors"][0]["field"]) == (400, "search")
