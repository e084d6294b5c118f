"""Dashboard metrics from the SQL views: correct figures on a small known load, empty buckets filled, the catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
import redis
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.api.app import create_app
from app.domain import metrics
from app.paths import run_log_path
from app.settings import Settings
from scheduler.cleanup import Cleanup
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.metrics_support import T0, WINDOW, add_run
from tests.integration.schedule_support import deploy, rewind


@pytest.fixture
def loaded(engine: Engine, client: TestClient) -> Engine:
    add_run(engine, at=T0 + timedelta(minutes=5), status="SUCCEEDED", duration=10, rows=100)
    add_run(engine, at=T0 + timedelta(minutes=6), status="SUCCEEDED", duration=20, wait=3, rows=50)
    add_run(engine, at=T0 + timedelta(hours=2, minutes=1), status="FAILED", duration=30)
    return engine


def test_the_views_answer_on_an_empty_window_and_the_summary_is_zero(client: TestClient) -> None:
    empty = client.get("/api/v1/metrics/summary", params={"from": "2031-01-01T00:00:00Z", "to": "2031-01-02T00:00:00Z"})
    assert empty.status_code == 200, empty.text
    figures = empty.json()["metrics"]
    assert (figures["runs"], figures["rows_processed"], figures["success_rate"]) == (0, 0, None)


def test_summary_figures_over_a_known_load(client: TestClient, loaded: Engine) -> None:
    figures = client.get("/api/v1/metrics/summary", params=WINDOW).json()
    metrics = figures["metrics"]
    assert (metrics["runs"], metrics["runs_failed"], metrics["rows_processed"]) == (3, 1, 150)
    assert metrics["success_rate"] == pytest.approx(2 / 3)
    # Percentiles come from log-scale bins: within 2 % of the exact figure.
    assert metrics["duration_p50"] == pytest.approx(20, rel=0.02)
    assert metrics["duration_p95"] == pytest.approx(30, rel=0.02)
    assert metrics["queue_wait_mean"] == pytest.approx(5 / 3)
    assert figures["runs_by_status"] == {"SUCCEEDED": 2, "FAILED": 1}


def test_timeseries_fills_empty_buckets_and_splits_by_status(client: TestClient, loaded: Engine) -> None:
    body = client.get("/api/v1/metrics/timeseries", params={**WINDOW, "bucket": "1h", "by": "status"}).json()
    series = {s["key"]: [value for _, value in s["points"]] for s in body["series"]}
    assert series == {"FAILED": [0, 0, 1], "SUCCEEDED": [2, 0, 0]}
    total = client.get("/api/v1/metrics/timeseries", params={**WINDOW, "bucket": "1h"}).json()["series"]
    assert [value for _, value in total[0]["points"]] == [2, 0, 1]


def test_a_series_per_value_is_given_for_the_largest_values_only(
    client: TestClient, loaded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every point of every series is read into the API process: with thousands of values of `by` (users,
    datasets) over 2,000 buckets that was millions of rows for one request. Past MAX_SERIES, the largest go."""
    monkeypatch.setattr(metrics, "MAX_SERIES", 1)
    body = client.get("/api/v1/metrics/timeseries", params={**WINDOW, "bucket": "1h", "by": "status"}).json()
    assert [(s["key"], [value for _, value in s["points"]]) for s in body["series"]] == [("SUCCEEDED", [2, 0, 0])]
    assert body["values"] == 2


def test_breakdown_keeps_the_top_and_sums_the_rest_as_other(client: TestClient, loaded: Engine) -> None:
    body = client.get("/api/v1/metrics/breakdown", params={**WINDOW, "by": "status", "top": 1}).json()
    assert body["items"] == [
        {"key": "SUCCEEDED", "label": None, "value": 2},
        {"key": "other", "label": None, "value": 1},
    ]
    errors = client.get("/api/v1/metrics/breakdown", params={**WINDOW, "by": "error", "metric": "runs_failed"})
    assert [(i["key"], i["value"]) for i in errors.json()["items"]] == [("step_failed", 1)]
    failures = client.get("/api/v1/metrics/recent-failures", params=WINDOW).json()
    assert [(r["status"], r["error"]["code"]) for r in failures] == [("FAILED", "step_failed")]


def test_bad_requests_name_the_parameter(client: TestClient) -> None:
    assert client.get("/api/v1/metrics/timeseries", params={"metric": "nope"}).json()["code"] == "unknown_metric"
    assert client.get("/api/v1/metrics/timeseries", params={"bucket": "7m"}).json()["code"] == "invalid_bucket"
    assert client.get("/api/v1/metrics/breakdown", params={"by": "password"}).json()["code"] == "invalid_by"
    # values outside the document's enums keep their codes (and name the parameter), on every metrics route
    for path, name, value, code in [
        ("/api/v1/metrics/breakdown", "metric", "nope", "unknown_metric"),
        ("/api/v1/metrics/timeseries", "by", "password", "invalid_by"),
    ]:
        refused = client.get(path, params={name: value})
        assert (refused.status_code, refused.json()["code"]) == (400, code), refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [name]
    not_by_status = client.get("/api/v1/metrics/breakdown", params={"by": "status", "metric": "duration_p95"})
    assert (not_by_status.status_code, not_by_status.json()["code"]) == (400, "invalid_by")
    backwards = client.get(
        "/api/v1/metrics/summary", params={"from": "2031-01-02T00:00:00Z", "to": "2031-01-01T00:00:00Z"}
    )
    assert (backwards.status_code, backwards.json()["code"]) == (400, "invalid_window")


def test_the_catalog_lists_every_metric_and_a_disabled_one_is_off(client: TestClient, fast_settings: Settings) -> None:
    catalog = {m["name"]: m for m in client.get("/api/v1/metrics/catalog").json()}
    assert {"runs", "duration_p95", "occurrences_missed", "datasets_imported"} <= set(catalog)
    assert all(entry["enabled"] for entry in catalog.values())
    switched_off = msgspec.structs.replace(fast_settings, disabled_metrics="duration_p95")
    with TestClient(app=create_app(switched_off)) as other:
        other.headers["Authorization"] = client.headers["Authorization"]
        entries = {m["name"]: m["enabled"] for m in other.get("/api/v1/metrics/catalog").json()}
        assert (entries["duration_p95"], entries["duration_p50"]) == (False, True)
        assert "duration_p95" not in other.get("/api/v1/metrics/summary").json()["metrics"]
        refused = other.get("/api/v1/metrics/timeseries", params={"metric": "duration_p95"})
        assert refused.json()["code"] == "unknown_metric"


def test_every_view_answers_on_an_empty_and_on_a_loaded_database(clean_db: Engine, client: TestClient) -> None:
    views = sorted(p.stem for p in (Path(__file__).parents[2] / "sql" / "views").glob("*.sql"))
    assert {"run_facts", "occurrence_facts", "dataset_facts", "fire_times"} <= set(views)
    with clean_db.connect() as connection:
        assert {v: connection.execute(text(f"SELECT count(*) FROM {v}")).scalar_one() for v in views} == dict.fromkeys(
            views, 0
        )
    add_run(clean_db, at=T0, status="SUCCEEDED", duration=1, rows=7)
    with clean_db.connect() as connection:
        facts = connection.execute(text("SELECT duration_seconds, rows_processed FROM run_facts")).one()
    assert (float(facts[0]), facts[1]) == (1.0, 7)


def test_prometheus_metrics_show_the_engine_and_api_latency_by_route(
    client: TestClient, anonymous: TestClient, loaded: Engine
) -> None:
    client.get("/api/v1/metrics/catalog")
    body = anonymous.get("/metrics").text
    assert 'conveyor_runs{kind="pipeline",status="FAILED"}' in body
    gauges = ("conveyor_outbox_lag_seconds", "conveyor_scheduler_lag_seconds", "conveyor_live_workers")
    for gauge in (*gauges, "conveyor_rollup_backlog"):
        assert f"\n{gauge} " in body, gauge
    assert 'conveyor_queue_depth{queue="runs",state="waiting"}' in body
    assert 'path="/api/v1/metrics/catalog"' in body  # latency histograms by route template


def test_prometheus_lists_every_queue_a_run_waits_in(
    anonymous: TestClient, engine: Engine, fast_settings: Settings, redis_client: redis.Redis
) -> None:
    add_run(engine, at=T0, status="SUCCEEDED", duration=1)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE runs SET status = 'QUEUED', broker_queue = 'reports', finished_at = NULL "
                "WHERE id = (SELECT id FROM runs WHERE created_at = :t0 LIMIT 1)"
            ),
            {"t0": T0},
        )
    prefix = f"{fast_settings.redis_namespace}:dramatiq:reports"
    redis_client.rpush(prefix, "m1", "m2")
    redis_client.zadd(f"{prefix}.XQ", {"m0": 1})
    body = anonymous.get("/metrics").text
    assert 'conveyor_queue_depth{queue="reports",state="waiting"} 2.0' in body
    assert 'conveyor_queue_depth{queue="reports",state="dead"} 1.0' in body


def test_retention_removes_old_logs_and_events_and_keeps_the_row(
    engine: Engine, client: TestClient, fast_settings: Settings
) -> None:
    add_run(engine, at=datetime.now(UTC) - timedelta(days=40), status="SUCCEEDED", duration=1)
    with engine.begin() as connection:
        old = connection.execute(text("SELECT id FROM runs ORDER BY finished_at LIMIT 1")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO run_events (run_id, from_status, to_status, reason, actor) "
                "VALUES (:r, NULL, 'PENDING', 'x', 't')"
            ),
            {"r": old},
        )
        connection.execute(
            text("INSERT INTO run_log_chunks (run_id, first_n, last_n, lines) VALUES (:r, 1, 1, 'x')"), {"r": old}
        )
    log = run_log_path(fast_settings.data_path, old)  # a log file from before logs moved into Postgres
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text('{"line": 1}\n')
    keep_rows = msgspec.structs.replace(fast_settings, run_log_retention_days=30, run_retention_days=0)
    assert Cleanup(engine=engine, settings=keep_rows).run_once()["run_logs"] >= 1
    with engine.connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM run_events WHERE run_id = :r"), {"r": old}).scalar_one()
        row = connection.execute(text("SELECT logs_purged_at IS NOT NULL FROM runs WHERE id = :r"), {"r": old}).one()
        chunks = connection.execute(text("SELECT count(*) FROM run_log_chunks WHERE run_id = :r"), {"r": old}).scalar()
    assert (events, chunks, row[0], log.exists()) == (0, 0, True, False)
    with engine.begin() as connection:  # a lost worker's late lines: they go with the run
        connection.execute(
            text("INSERT INTO run_log_chunks (run_id, first_n, last_n, lines) VALUES (:r, 2, 2, 'x')"), {"r": old}
        )
    prune = msgspec.structs.replace(fast_settings, run_log_retention_days=0, run_retention_days=35)
    assert Cleanup(engine=engine, settings=prune).run_once()["runs"] >= 1
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM runs WHERE id = :r"), {"r": old}).scalar_one() == 0
        assert (
            connection.execute(text("SELECT count(*) FROM run_log_chunks WHERE run_id = :r"), {"r": old}).scalar() == 0
        )


def test_the_summary_counts_missed_fire_times_by_outcome(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    downtime = datetime(2033, 2, 1, 12, 0, tzinfo=UTC)  # a window no other test schedules into
    d = deploy(client, misfire_policy="skip", misfire_grace_seconds=30)
    rewind(engine, d["id"], downtime)
    loop = ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test")
    loop.tick(downtime + timedelta(minutes=10, seconds=5))  # nine fire times missed while it was down
    window = {"from": downtime.isoformat(), "to": (downtime + timedelta(minutes=11)).isoformat()}
    summary = client.get("/api/v1/metrics/summary", params=window).json()
    assert summary["missed_by_outcome"] == {"misfire_skipped": 9}
    assert summary["metrics"]["occurrences_missed"] == 9


def test_a_time_without_an_offset_is_refused_and_the_same_instant_in_utc_is_counted(
    client: TestClient, loaded: Engine
) -> None:
    """It was read as UTC here but in the database session's zone by the runs and audit lists: one rule now."""
    naive = {
        "from": T0.replace(tzinfo=None).isoformat(),
        "to": (T0 + timedelta(hours=3)).replace(tzinfo=None).isoformat(),
    }
    refused = client.get("/api/v1/metrics/summary", params=naive)
    assert (refused.status_code, refused.json()["code"]) == (400, "date_time_without_offset")
    body = client.get("/api/v1/metrics/summary", params={k: f"{v}Z" for k, v in naive.items()})
    assert body.status_code == 200, body.text
    assert body.json()["metrics"]["runs"] == 3
