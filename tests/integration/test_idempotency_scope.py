"""The endpoints that honour Idempotency-Key share one helper and one scope format: action, resource, caller."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from sqlalchemy import Engine, text

from tests.integration.schedule_support import deploy

SCOPE = re.compile(r"^(?P<action>[a-z]+\.[a-z]+) (?P<resource>[0-9a-f-]{36}|-) (?P<user>[0-9a-f-]{36})$")


def test_a_replay_returns_the_first_run_and_every_scope_has_one_format(
    client: TestClient, pipeline: dict, engine: Engine
) -> None:
    d = deploy(client)
    calls = [
        ("/api/v1/runs", {"pipeline": "noop"}),
        (f"/api/v1/deployments/{d['id']}/trigger", {"params": {}}),
        (f"/api/v1/pipelines/{pipeline['id']}/runs", {}),
    ]
    for path, body in calls:
        first = client.post(path, json=body, headers={"Idempotency-Key": "k-1"})
        again = client.post(path, json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code in (201, 202), first.text
        assert again.headers.get("Idempotent-Replayed") == "true", path
        assert again.json()["id"] == first.json()["id"], path
        other = client.post(path, json={**body, "priority": 5}, headers={"Idempotency-Key": "k-1"})
        assert other.status_code in (409, 422), path
    with engine.connect() as connection:
        scopes = connection.execute(text("SELECT scope FROM idempotency_keys WHERE key = 'k-1'")).scalars().all()
    parsed = [SCOPE.match(s) for s in scopes]
    assert all(parsed), scopes
    assert sorted(m["action"] for m in parsed if m) == ["deployments.trigger", "pipelines.run", "runs.submit"]
    assert {m["resource"] for m in parsed if m and m["action"] != "runs.submit"} == {d["id"], pipeline["id"]}
