"""The hourly rollup gives the figures the views define, exactly, whatever the fold has or has not done yet.

A mixed load (every status, three pipelines, two users, runs still going) is
measured through the rollup path and compared with the same figures computed
straight from run_facts, over aligned, unaligned and sub-hour windows: before
any fold, after a fold, after manual retries take counted runs back, and
after a rebuild. Percentiles must land in the bin of the exact nearest-rank one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import cli
from app.domain import metric_catalog, metrics
from app.settings import Settings, get_settings
from scheduler.cleanup import Cleanup
from scheduler.rollup import REBUILD_LOCK, RollupFolder
from tests.integration.engine_parts import ROOT
from tests.integration.rollup_load import (
    T0,
    WINDOWS,
    assert_same_as_the_view,
    from_view,
    loaded_runs,
    measured,
    queued_changes,
)


@pytest.fixture
def load(engine: Engine, client: TestClient) -> Iterator[dict[str, Any]]:
    yield from loaded_runs(engine, client)


def test_figures_equal_the_view_before_and_after_each_fold_and_after_retries(
    engine: Engine, load: dict[str, Any]
) -> None:
    assert queued_changes(engine) >= 150  # every final run queued by the triggers
    assert_same_as_the_view(engine)
    folder = RollupFolder(engine=engine, batch=50)
    assert folder.fold_once() == 50  # half folded: rollup and queue read together
    assert_same_as_the_view(engine)
    folder.fold_all()
    assert queued_changes(engine) == 0
    assert_same_as_the_view(engine)
    with engine.begin() as connection:  # a manual retry takes finished runs back to PENDING
        retried = connection.execute(
            text(
                "UPDATE runs SET status = 'PENDING', finished_at = NULL, started_at = NULL "
                "WHERE id IN (SELECT id FROM runs WHERE status = 'FAILED' AND created_at >= :t0 LIMIT 5)"
            ),
            {"t0": T0},
        ).rowcount
    assert retried == 5
    assert queued_changes(engine) == 5
    assert_same_as_the_view(engine)
    folder.fold_all()
    assert_same_as_the_view(engine)
    with engine.begin() as connection:  # retention deletes finished runs: they leave the metrics with them
        deleted = connection.execute(
            text(
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status IN ('SUCCEEDED', 'CANCELLED') "
                "AND created_at >= :t0 AND created_at < :t0 + interval '2 hours')"
            ),
            {"t0": T0},
        ).rowcount
    assert deleted > 10
    assert_same_as_the_view(engine)
    folder.fold_all()
    assert_same_as_the_view(engine)
    with engine.connect() as connection:
        zero = connection.execute(text("SELECT count(*) FROM run_rollup WHERE runs = 0")).scalar_one()
    assert zero == 0  # rows a retraction or a delete emptied are dropped
    assert folder.rebuild() > 0
    assert_same_as_the_view(engine)


def test_a_fold_takes_one_batch_whatever_plan_postgres_picks(engine: Engine, load: dict[str, Any]) -> None:
    """As `id IN (SELECT ... LIMIT :batch FOR UPDATE SKIP LOCKED)` the batch was a subquery that a nested-loop plan
    rescans for each queued row, each rescan skipping the rows already deleted and locking the next batch: one fold
    under load took 180 changes with a batch of 50. Here the planner is pushed to that plan."""
    rescanning = create_engine(
        engine.url,
        connect_args={"options": " ".join(f"-c enable_{name}=off" for name in _NOT_RESCANNING)},
        poolclass=NullPool,
    )
    try:
        queued = queued_changes(engine)
        assert queued >= 150
        assert RollupFolder(engine=rescanning, batch=50).fold_once() == 50
        assert queued_changes(engine) == queued - 50
        assert_same_as_the_view(engine)
    finally:
        rescanning.dispose()


#: Plans that read a subquery once; with them off, Postgres joins by a nested loop that rescans it.
_NOT_RESCANNING = ("hashjoin", "mergejoin", "material", "hashagg", "sort")


def test_hourly_and_five_minute_series_add_up_to_the_view(engine: Engine, load: dict[str, Any]) -> None:
    RollupFolder(engine=engine).fold_all()
    start, end = WINDOWS["unaligned"]
    want = from_view(engine, start, end)["by_status"]
    with Session(engine) as session:
        for bucket in ("1h", "5m"):
            series, _ = metrics.timeseries(
                session, ROOT, metric_catalog.BY_NAME["runs"], bucket=bucket, by="status", start=start, end=end
            )
            totals = {s["key"]: sum(value for _, value in s["points"]) for s in series}
            assert totals == want, bucket
            lengths = {len(s["points"]) for s in series}
            assert lengths == {5 if bucket == "1h" else 54}, bucket  # empty buckets filled, one per bucket


def test_runs_pruned_by_retention_leave_the_metrics_on_every_window(engine: Engine, fast_settings: Settings) -> None:
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=50)
    with engine.begin() as connection:
        connection.execute(
            text("""
            INSERT INTO runs (id, namespace_id, kind, trigger, status, params, priority, attempt, max_retries,
                              retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                              created_at, queued_at, started_at, finished_at)
            SELECT gen_random_uuid(), id, 'pipeline', 'api', 'SUCCEEDED', '{}', 0, 1, 0, 10, 600, 0.2, 3600,
                   :at, :at, :at, CAST(:at AS timestamptz) + interval '3 s'
            FROM namespaces WHERE name = 'default'"""),
            {"at": at + timedelta(minutes=10)},
        )
    RollupFolder(engine=engine).fold_all()
    whole_hour = {"start": at, "end": at + timedelta(hours=1)}
    part_hour = {"start": at, "end": at + timedelta(minutes=59)}
    with Session(engine) as session:
        assert metrics.summary(session, ROOT, [metric_catalog.BY_NAME["runs"]], **whole_hour)["runs"] >= 1
    prune = msgspec.structs.replace(fast_settings, run_log_retention_days=0, run_retention_days=45)
    assert Cleanup(engine=engine, settings=prune).run_once()["runs"] >= 1
    for folded in (False, True):
        if folded:
            RollupFolder(engine=engine).fold_all()
        with Session(engine) as session:
            for window in (whole_hour, part_hour):
                assert metrics.summary(session, ROOT, [metric_catalog.BY_NAME["runs"]], **window)["runs"] == 0, (
                    folded,
                    window,
                )


def test_rankings_and_breakdowns_name_what_they_list(client: TestClient, engine: Engine, load: dict[str, Any]) -> None:
    RollupFolder(engine=engine).fold_all()
    start, end = WINDOWS["aligned"]
    window = {"from": start.isoformat(), "to": end.isoformat()}
    slowest = client.get("/api/v1/metrics/slowest-pipelines", params={**window, "top": 2}).json()["items"]
    assert len(slowest) == 2
    assert {item["label"] for item in slowest} <= set(load["pipelines"])
    assert slowest[0]["duration_p95"] >= slowest[1]["duration_p95"]
    assert all(item["runs"] > 0 and item["duration_p50"] <= item["duration_p95"] for item in slowest)
    by_pipeline = client.get("/api/v1/metrics/breakdown", params={**window, "by": "pipeline", "top": 3}).json()
    assert sum(item["value"] for item in by_pipeline["items"]) == 240
    by_user = client.get("/api/v1/metrics/breakdown", params={**window, "by": "user"}).json()["items"]
    assert sorted(item["value"] for item in by_user) == [80, 160]


def test_runs_record_who_made_them_and_the_user_breakdown_names_them(client: TestClient, engine: Engine) -> None:
    name = f"who-{uuid.uuid4().hex[:8]}"
    assert client.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}}).status_code == 201
    run = client.post("/api/v1/runs", json={"pipeline": name}).json()
    me = client.get("/api/v1/auth/me").json()["user"]
    assert run["created_by"] == me["id"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET status = 'CANCELLED', finished_at = now() WHERE id = :id"), {"id": run["id"]}
        )
    RollupFolder(engine=engine).fold_all()
    start = datetime.now(UTC) - timedelta(minutes=5)
    items = client.get(
        "/api/v1/metrics/breakdown",
        params={"by": "user", "from": start.isoformat(), "to": (start + timedelta(minutes=10)).isoformat()},
    ).json()["items"]
    assert {"key": me["id"], "label": "root", "value": 1} in items


def test_the_rebuild_command_counts_every_finished_run_again(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, load: dict[str, Any]
) -> None:
    with engine.begin() as connection:  # as after a restore: the rollup lost, the runs there
        connection.execute(text("TRUNCATE run_rollup, run_latency_rollup, run_totals, run_rollup_changes"))
    start, end = WINDOWS["unaligned"]
    assert measured(engine, start, end)["by_status"] != from_view(engine, start, end)["by_status"]
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        assert cli.main(["rollup", "rebuild"]) == 0
    finally:
        get_settings.cache_clear()
    assert queued_changes(engine) == 0
    assert_same_as_the_view(engine)


def test_one_fold_at_a_time_across_schedulers(engine: Engine, load: dict[str, Any]) -> None:
    with engine.connect() as other:  # another scheduler in the middle of a fold
        other.exec_driver_sql(REBUILD_LOCK)
        assert RollupFolder(engine=engine).fold_all() == 0
        assert queued_changes(engine) > 0
        other.rollback()
    assert RollupFolder(engine=engine).fold_all() > 0
    assert_same_as_the_view(engine)


def test_daily_series_stay_on_the_utc_grid_across_a_dst_change(engine: Engine) -> None:
    first = datetime(2032, 3, 20, 12, 0, tzinfo=UTC)  # Europe moves its clocks on 2032-03-28
    with engine.begin() as connection:
        connection.execute(
            text("""
            INSERT INTO runs (id, namespace_id, kind, trigger, status, params, priority, attempt, max_retries,
                              retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                              created_at, queued_at, started_at, finished_at, error_code)
            SELECT gen_random_uuid(), n.id, 'pipeline', 'api', 'FAILED', '{}', 0, 1, 0, 10, 600, 0.2, 3600,
                   t, t, t, t + interval '2 s', 'step_failed'
            FROM namespaces n, generate_series(CAST(:first AS timestamptz), CAST(:first AS timestamptz)
                                               + interval '16 days', interval '1 day') t
            WHERE n.name = 'default'"""),
            {"first": first},
        )
    RollupFolder(engine=engine).fold_all()
    start, end = first - timedelta(hours=12), first + timedelta(days=16, hours=12)
    with Session(engine) as session:
        session.execute(text("SET TIME ZONE 'Europe/Berlin'"))  # whatever the server's zone, the grid is UTC
        [series], _ = metrics.timeseries(
            session, ROOT, metric_catalog.BY_NAME["runs"], bucket="1d", by=None, start=start, end=end
        )
        assert [value for _, value in series["points"]] == [1] * 17
        assert {(at.astimezone(UTC).hour, at.astimezone(UTC).minute) for at, _ in series["points"]} == {(0, 0)}
        # A zero is a figure, not an empty group: every run failed, and the breakdown says so.
        rates = metrics.breakdown(
            session, ROOT, metric_catalog.BY_NAME["success_rate"], by="kind", top=5, start=start, end=end
        )
        assert rates == [{"key": "pipeline", "label": None, "value": 0.0}]


def test_a_run_with_odd_progress_still_finishes_and_counts(engine: Engine) -> None:
    with engine.begin() as connection:
        ids = (
            connection.execute(
                text("""
            INSERT INTO runs (id, namespace_id, kind, trigger, status, params, priority, attempt, max_retries,
                              retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                              started_at)
            SELECT gen_random_uuid(), id, 'pipeline', 'api', 'RUNNING', '{}', 0, 1, 0, 10, 600, 0.2, 3600, now()
            FROM namespaces, generate_series(1, 3) WHERE name = 'default'
            RETURNING id""")
            )
            .scalars()
            .all()
        )
    odd = ['{"rows": 1.5}', '{"rows": "many"}', '{"bytes": 1e30}']
    with engine.begin() as connection:  # the finishing update fires the rollup triggers, which read run_facts
        for run_id, progress in zip(ids, odd, strict=True):
            connection.execute(
                text(
                    "UPDATE runs SET status = 'SUCCEEDED', finished_at = now(), progress = CAST(:p AS jsonb) "
                    "WHERE id = :id"
                ),
                {"id": run_id, "p": progress},
            )
    with engine.connect() as connection:
        facts = connection.execute(
            text(
                "SELECT rows_processed, bytes_processed FROM run_facts WHERE run_id = ANY(:ids) ORDER BY rows_processed"
            ),
            {"ids": list(ids)},
        ).all()
    assert sorted(facts, key=str) == sorted([(2, None), (None, None), (None, None)], key=str)


def test_a_row_a_later_batch_brings_to_zero_is_dropped(engine: Engine) -> None:
    hour = datetime(2032, 7, 1, 9, 0, tzinfo=UTC)
    change = text("""
        INSERT INTO run_rollup_changes (run_id, hour, namespace_id, kind, trigger, status, error_code, runs,
                                        duration_n, duration_sum, wait_n, wait_sum, rows_sum, bytes_sum,
                                        duration_bin, wait_bin)
        SELECT gen_random_uuid(), :hour, id, 'pipeline', 'api', 'FAILED', '', :sign, :sign, 2.0 * :sign,
               :sign, 0.5 * :sign, 0, 0, 30, 20
        FROM namespaces WHERE name = 'default'""")
    folder = RollupFolder(engine=engine)
    for sign in (-1, 1):  # a take-back folded in one batch, the count it cancels in the next
        with engine.begin() as connection:
            connection.execute(change, {"hour": hour, "sign": sign})
        folder.fold_all()
    with engine.connect() as connection:
        left = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM run_rollup WHERE hour = :h), "
                "(SELECT count(*) FROM run_latency_rollup WHERE hour = :h)"
            ),
            {"h": hour},
        ).one()
    assert tuple(left) == (0, 0)


def test_a_run_cancelled_while_queued_for_a_retry_has_no_queue_wait(engine: Engine) -> None:
    with engine.begin() as connection:
        run_id = connection.execute(
            text("""
            INSERT INTO runs (id, namespace_id, kind, trigger, status, params, priority, attempt, max_retries,
                              retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                              started_at, queued_at, finished_at)
            SELECT gen_random_uuid(), id, 'pipeline', 'api', 'CANCELLED', '{}', 0, 1, 1, 10, 600, 0.2, 3600,
                   now() - interval '1 minute', now() - interval '10 s', now()
            FROM namespaces WHERE name = 'default'
            RETURNING id""")
        ).scalar_one()
        wait = connection.execute(
            text("SELECT queue_wait_seconds FROM run_facts WHERE run_id = :id"), {"id": run_id}
        ).scalar_one()
    assert wait is None  # not a negative wait that would drag the mean and the percentiles down
