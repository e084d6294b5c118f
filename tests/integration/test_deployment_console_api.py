"""What the console's deployment pages need from the API: backfill preview, occurrence filters, pipeline names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain.members import NewNamespace, create_namespace
from app.settings import Settings
from scheduler.schedule_loop import ScheduleLoop

HOURLY_2026 = {"kind": "interval", "seconds": 3600, "anchor": "2026-01-01T00:00:00Z"}
WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T05:00:00Z"}


def deploy(client: TestClient, name: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    body = {"name": name, "pipeline": "noop", "schedule": HOURLY_2026, **fields}
    response = client.post("/api/v1/deployments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_backfill_preview_counts_without_creating(client: TestClient, pipeline: dict) -> None:
    d = deploy(client, "bf", max_concurrent_runs=2)
    url = f"/api/v1/deployments/{d['id']}/backfill"
    preview = client.post(f"{url}/preview", json=WINDOW)
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "fire_times": 6,
        "will_create": 6,
        "already_had_a_run": 0,
        "first": "2026-01-01T00:00:00Z",
        "last": "2026-01-01T05:00:00Z",
    }
    assert client.get("/api/v1/runs", params={"deployment_id": d["id"]}).json()["items"] == []
    assert client.post(url, json={**WINDOW, "end": "2026-01-01T02:00:00Z"}).status_code == 201
    after = client.post(f"{url}/preview", json=WINDOW).json()
    assert (after["will_create"], after["already_had_a_run"]) == (3, 3)
    assert len(client.post(url, json=WINDOW).json()["runs"]) == after["will_create"]


def test_backfill_preview_refuses_what_backfill_refuses(client: TestClient, pipeline: dict) -> None:
    d = deploy(client, "bf-bad")
    url = f"/api/v1/deployments/{d['id']}/backfill/preview"
    too_many = client.post(url, json={**WINDOW, "max_runs": 5})
    assert (too_many.status_code, too_many.json()["code"]) == (422, "backfill_too_large")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    in_future = client.post(url, json={**WINDOW, "end": future})
    assert (in_future.status_code, in_future.json()["code"]) == (422, "invalid_window")


def test_occurrences_filter_by_outcome_and_carry_the_run_status(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    t0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    d = deploy(
        client, "occ", schedule={"kind": "interval", "seconds": 60, "anchor": t0.isoformat()}, overlap_policy="skip"
    )
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE deployments SET last_scheduled_for = :t, next_run_at = :t WHERE id = :id"),
            {"t": t0, "id": d["id"]},
        )
    loop = ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test")
    loop.tick(t0 + timedelta(minutes=1))
    loop.tick(t0 + timedelta(minutes=2))  # the first run is still queued: max 1 concurrent, skip
    url = f"/api/v1/deployments/{d['id']}/occurrences"
    everything = client.get(url).json()["items"]
    assert [o["outcome"] for o in everything] == ["overlap_skipped", "run"]
    ran = client.get(url, params={"outcome": "run"}).json()["items"]
    assert len(ran) == 1
    assert ran[0]["run_id"] is not None
    assert ran[0]["run_status"] == client.get(f"/api/v1/runs/{ran[0]['run_id']}").json()["status"]
    skipped = client.get(url, params={"outcome": "overlap_skipped"}).json()["items"]
    assert [(o["run_id"], o["run_status"]) for o in skipped] == [(None, None)]
    assert client.get(url, params={"outcome": "dst_skipped"}).json()["items"] == []
    bad = client.get(url, params={"outcome": "lost"})
    assert bad.status_code == 400


def test_deployment_responses_name_the_pipeline(client: TestClient, pipeline: dict) -> None:
    d = deploy(client, "named")
    assert d["pipeline_name"] == "noop"
    assert client.get(f"/api/v1/deployments/{d['id']}").json()["pipeline_name"] == "noop"
    assert client.get("/api/v1/deployments").json()["items"][0]["pipeline_name"] == "noop"
    assert client.post(f"/api/v1/deployments/{d['id']}/pause").json()["pipeline_name"] == "noop"


def test_an_edited_cron_deployment_previews_a_backfill(client: TestClient, pipeline: dict) -> None:
    """The console's edit form PATCHes the whole form back; the edited deployment then previews a backfill."""
    tokyo = {"kind": "cron", "cron": "30 2 * * *", "timezone": "Asia/Tokyo"}
    d = deploy(client, "bf-edited", schedule=tokyo)
    fields = ("description", "params", "start_at", "end_at", "misfire_policy", "misfire_grace_seconds", "max_catch_up")
    fields += ("max_concurrent_runs", "overlap_policy", "dst_policy", "max_retries", "retry_backoff_seconds")
    fields += ("retry_backoff_max_seconds", "timeout_seconds")
    edited = {k: d[k] for k in fields if k != "max_retries" or d[k] is not None}  # what the console's PATCH sends
    saved = client.patch(f"/api/v1/deployments/{d['id']}", json={**edited, "schedule": {**tokyo, "cron": "45 3 * * *"}})
    assert saved.status_code == 200, saved.text
    now = datetime.now(UTC).replace(microsecond=0)
    window = {"start": (now - timedelta(days=1)).isoformat(), "end": now.isoformat()}
    preview = client.post(f"/api/v1/deployments/{d['id']}/backfill/preview", json=window)
    assert preview.status_code == 200, preview.text
    assert preview.json()["fire_times"] == 1


def test_the_list_filters_by_namespace(client: TestClient, pipeline: dict, engine: Engine) -> None:
    kept, moved = deploy(client, "stays"), deploy(client, "moves")
    with Session(engine) as session, session.begin():
        other = create_namespace(session, NewNamespace(name="other"))
        session.execute(
            text("UPDATE deployments SET namespace_id = :ns WHERE id = :id"), {"ns": other.id, "id": moved["id"]}
        )
    names = {
        ns: [d["id"] for d in client.get("/api/v1/deployments", params={"namespace": ns}).json()["items"]]
        for ns in ("default", "other")
    }
    assert names == {"default": [kept["id"]], "other": [moved["id"]]}
    assert len(client.get("/api/v1/deployments").json()["items"]) == 2
    missing = client.get("/api/v1/deployments", params={"namespace": "nosuch"})
    assert (missing.status_code, missing.json()["code"]) == (404, "namespace_not_found")
    bad = client.get("/api/v1/deployments", params={"namespace": "Not A Name!"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_parameter")


def test_the_list_finds_deployments_by_part_of_their_name(client: TestClient, pipeline: dict) -> None:
    """The console's deployment picker searches the server, so a deployment past the first page is found by name."""
    made = {name: deploy(client, name)["id"] for name in ("nightly-sales", "Nightly_Costs", "hourly", "nightlyXcosts")}
    for n in range(60):  # more than a page of other deployments, all newer than those searched for
        deploy(client, f"filler-{n}")

    def found(**params: object) -> list[str]:
        response = client.get("/api/v1/deployments", params=params)
        assert response.status_code == 200, response.text
        return [d["name"] for d in response.json()["items"]]

    assert found(search="NIGHTLY") == ["nightlyXcosts", "Nightly_Costs", "nightly-sales"]  # any case, newest first
    assert found(search="y_c") == ["Nightly_Costs"]  # `_` and `%` are the characters typed, not wildcards
    assert found(search="%") == []
    assert found(search="hourly", namespace="default") == ["hourly"]
    first = client.get("/api/v1/deployments", params={"search": "nightly", "limit": 2}).json()
    rest = client.get("/api/v1/deployments", params={"search": "nightly", "cursor": first["next_cursor"]}).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == [
        made["nightlyXcosts"],
        made["Nightly_Costs"],
        made["nightly-sales"],
    ]
    assert rest["next_cursor"] is None
    too_long = client.get("/api/v1/deployments", params={"search": "x" * 201})
    assert too_long.status_code == 400
    assert too_long.headers["content-type"].startswith("application/problem+json")
    assert too_long.json()["errors"][0]["field"] == "search"
