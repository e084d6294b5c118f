"""Every create honours Idempotency-Key: a replay answers the first resource (no second row), another body is 409,
and a create whose answer holds a secret shown once answers a replay 409 naming what it made."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from tests.integration.conftest import ADMIN_PASSWORD
from tests.integration.dataset_support import SALES

HOURLY = {"kind": "interval", "seconds": 3600, "anchor": "2026-01-01T00:00:00Z"}
WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T05:00:00Z"}


@dataclass(frozen=True)
class Create:
    """A create: where it is posted (made from a client that can set up what it acts on), a body, another body."""

    url: Callable[[TestClient], str]
    body: dict
    other: dict
    table: str
    secret: bool = False


def _at(path: str) -> Callable[[TestClient], str]:
    return lambda client: path


def _deployment(client: TestClient) -> str:
    body = {"name": "bf", "pipeline": "noop", "schedule": HOURLY}
    created = client.post("/api/v1/deployments", json=body)
    assert created.status_code == 201, created.text
    return f"/api/v1/deployments/{created.json()['id']}/backfill"


def _sent_upload(client: TestClient) -> str:
    opened = client.post("/api/v1/uploads", json={"filename": "sales.csv", "size": len(SALES)})
    assert opened.status_code == 201, opened.text
    upload_id = opened.json()["id"]
    sent = client.put(
        f"/api/v1/uploads/{upload_id}",
        content=SALES,
        headers={"Content-Range": f"bytes 0-{len(SALES) - 1}/{len(SALES)}"},
    )
    assert sent.status_code == 200, sent.text
    return f"/api/v1/uploads/{upload_id}/complete"


CREATES = {
    "tokens": Create(
        _at("/api/v1/tokens"),
        {"name": "t", "namespace": "default", "role": "viewer"},
        {"name": "t2", "namespace": "default", "role": "viewer"},
        "auth_tokens",
        secret=True,
    ),
    "invites": Create(
        _at("/api/v1/invites"),
        {"namespace": "default", "role": "operator"},
        {"namespace": "default", "role": "viewer"},
        "invites",
        secret=True,
    ),
    "webhooks": Create(
        _at("/api/v1/webhooks"),
        {"url": "https://93.184.215.14/hook", "event_types": ["run.failed"]},
        {"url": "https://93.184.215.14/other", "event_types": ["run.failed"]},
        "webhook_subscriptions",
        secret=True,
    ),
    "users": Create(
        _at("/api/v1/users"),
        {"username": "newbie", "password": ADMIN_PASSWORD},
        {"username": "newbie2", "password": ADMIN_PASSWORD},
        "users",
    ),
    "namespaces": Create(_at("/api/v1/namespaces"), {"name": "ns-a"}, {"name": "ns-b"}, "namespaces"),
    "pipelines": Create(
        _at("/api/v1/pipelines"),
        {"name": "p-a", "spec": {"steps": []}},
        {"name": "p-b", "spec": {"steps": []}},
        "pipelines",
    ),
    "deployments": Create(
        _at("/api/v1/deployments"),
        {"name": "d-a", "pipeline": "noop", "schedule": HOURLY},
        {"name": "d-b", "pipeline": "noop", "schedule": HOURLY},
        "deployments",
    ),
    "uploads": Create(
        _at("/api/v1/uploads"),
        {"filename": "a.csv", "size": 10},
        {"filename": "b.csv", "size": 10},
        "uploads",
    ),
    "upload complete": Create(_sent_upload, {"name": "done"}, {"name": "other"}, "datasets"),
    "backfill": Create(_deployment, WINDOW, {**WINDOW, "end": "2026-01-01T03:00:00Z"}, "runs"),
}


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _made(answer: dict) -> object:
    return [r["id"] for r in answer["runs"]] if "runs" in answer else answer["id"]


@pytest.mark.parametrize("name", list(CREATES))
def test_a_replayed_create_answers_the_first_resource_and_another_body_is_a_conflict(
    name: str, client: TestClient, pipeline: dict, engine: Engine
) -> None:
    create = CREATES[name]
    url = create.url(client)
    key = {"Idempotency-Key": f"key-{name}"}
    first = client.post(url, json=create.body, headers=key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    rows = _rows(engine, create.table)

    again = client.post(url, json=create.body, headers=key)

    assert _rows(engine, create.table) == rows  # no second resource
    if create.secret:  # the secret is stored nowhere to be shown again: the client learns what was made
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "idempotency_key_replayed_secret"
        assert again.json()["errors"] == [{"field": "id", "message": first.json()["id"]}]
    else:  # the first status, the first resource (never 409 for the name the first request took)
        assert again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert _made(again.json()) == _made(first.json())
        assert again.headers.get("Location") == first.headers.get("Location")
    other = client.post(url, json=create.other, headers=key)
    assert other.status_code == 409, other.text
    assert other.json()["code"] == "idempotency_key_reused"
    assert _rows(engine, create.table) == rows
    # without the key, the same body is a new request (a name taken is then a conflict, as before)
    assert client.post(url, json=create.other).status_code in (201, 409)


def test_a_replayed_dataset_upload_answers_the_first_dataset_and_keeps_no_second_file(
    client: TestClient, engine: Engine
) -> None:
    key = {"Idempotency-Key": "upload-1"}
    form = {"name": "sales"}
    files = {"file": ("sales.csv", SALES, "text/csv")}
    first = client.post("/api/v1/datasets", files=files, data=form, headers=key)
    assert first.status_code == 201, first.text

    again = client.post("/api/v1/datasets", files=files, data=form, headers=key)

    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert (_rows(engine, "datasets"), _rows(engine, "uploads")) == (1, 1)
    other_bytes = {"file": ("sales.csv", SALES + b"erin,1,2026-01-06\n", "text/csv")}
    other = client.post("/api/v1/datasets", files=other_bytes, data=form, headers=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_creates_sent_at_once_with_one_key_make_one_resource(client: TestClient, engine: Engine) -> None:
    body, key = {"name": "at-once"}, {"Idempotency-Key": "together"}
    before = _rows(engine, "namespaces")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post("/api/v1/namespaces", json=body, headers=key), range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true", "true", "true"]
    assert _rows(engine, "namespaces") == before + 1
