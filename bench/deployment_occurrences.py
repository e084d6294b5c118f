"""GET /deployments/{id}/occurrences at 100,000 fire times: the API's first page, a filtered page and a deep page.

A fresh database migrated to head gets one deployment (every minute) with 100,000
occurrences (about 90 % with a run, the rest misfire, overlap, coalesced, and 1 % paused)
and a run row for each `run` occurrence, then ANALYZE. Each case is timed through the
real Litestar app (httpx ASGI transport, signed in, rate limit off) `--calls` times; it
prints p50 and p95 and the ratio of p95 to the 500 ms target of issue 14 (≤ 1 is good).

    python -m bench.deployment_occurrences [--fires 100000] [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.api.app import create_app
from app.api.security import SYSTEM
from app.db import migrate
from app.db.engine import get_engine
from app.domain.deployment_documents import DeploymentIn
from app.domain.deployments import create_deployment
from app.domain.pipelines import create_pipeline
from app.domain.users import NewUser, create_user
from app.scheduling.spec import IntervalSpec
from app.settings import Settings
from bench._servers import BenchServers, figure, percentile

TARGET_MS = 500.0
PASSWORD = "timing passphrase 42"

# Outcome of fire time i by i % 100: 1 % paused, 3 % misfire, 3 % overlap, 3 % coalesced, the rest ran.
_OUTCOME = """CASE WHEN i % 100 = 99 THEN 'paused' WHEN i % 100 >= 96 THEN 'misfire_skipped'
                   WHEN i % 100 >= 93 THEN 'overlap_skipped' WHEN i % 100 >= 90 THEN 'coalesced' ELSE 'run' END"""
_RUN_ID = "md5(CAST(:deployment AS text) || i)::uuid"
SEED_RUNS = text(f"""
INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version, params, priority, attempt,
                  max_retries, retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                  created_at, deployment_id, scheduled_for, progress, log_lines)
SELECT {_RUN_ID}, CAST(:namespace AS uuid), 'pipeline', 'schedule',
       CASE WHEN i % 17 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END, CAST(:pipeline AS uuid), 1, '{{}}'::jsonb, 0, 1,
       0, 10, 600, 0.2, 3600, :t0 + i * interval '1 minute', CAST(:deployment AS uuid),
       :t0 + i * interval '1 minute', '{{}}'::jsonb, 1
FROM generate_series(1, :n) AS i WHERE {_OUTCOME} = 'run'
""")
SEED_OCCURRENCES = text(f"""
INSERT INTO occurrences (deployment_id, scheduled_for, outcome, run_id, reason)
SELECT CAST(:deployment AS uuid), :t0 + i * interval '1 minute', {_OUTCOME},
       CASE WHEN {_OUTCOME} = 'run' THEN {_RUN_ID} END,
       CASE WHEN {_OUTCOME} = 'run' THEN '' ELSE 'bench' END
FROM generate_series(1, :n) AS i
""")


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


async def _measure(settings: Settings, deployment: str, calls: int) -> dict[str, list[float]]:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        signed = await client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        url = f"/api/v1/deployments/{deployment}/occurrences"

        async def get(params: dict[str, object]) -> tuple[float, dict]:
            started = time.perf_counter()
            response = await client.get(url, params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            return elapsed, response.json()

        cursor = None
        for _ in range(100):  # the cursor of page 101 (limit 50): 5,000 fire times back
            _, body = await get({"limit": 50, **({"cursor": cursor} if cursor else {})})
            cursor = body["next_cursor"]
        _, first = await get({"limit": 50})
        assert len(first["items"]) == 50
        assert first["items"][0]["run_status"], "the page carries run statuses"
        cases: dict[str, dict[str, object]] = {
            "first_page_50": {"limit": 50},
            "first_page_100": {"limit": 100},
            "outcome_paused_50": {"limit": 50, "outcome": "paused"},
            "page_101_50": {"limit": 50, "cursor": cursor},
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(3):  # warm
            for params in cases.values():
                await get(params)
        for _ in range(calls):
            for name, params in cases.items():
                timings[name].append((await get(params))[0])
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deployment_occurrences")
    parser.add_argument("--fires", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args(argv)
    with BenchServers() as servers:
        settings = Settings(
            database_url=servers.create_database("conveyor_bench_occ"),
            redis_url=servers.redis_url,
            redis_namespace=servers.redis_prefix(),
            data_root=str(servers.tmp / "data"),
            login_max_failures=1000,
            rate_limit_per_minute=0,
        )
        migrate.upgrade(settings.sqlalchemy_url)
        engine = get_engine(settings)
        now = datetime.now(UTC)
        t0 = now - timedelta(minutes=args.fires + 10)
        with Session(engine) as session, session.begin():
            create_user(session, NewUser(username="bench", password=PASSWORD, is_superuser=True), settings)
            create_pipeline(session, namespace="default", name="noop", description="", spec={"steps": []})
        with Session(engine) as session, session.begin():
            deployment = create_deployment(
                session,
                DeploymentIn(name="minutely", pipeline="noop", schedule=IntervalSpec(seconds=60, anchor=t0)),
                SYSTEM,
                settings,
                now=now,
            )
            ids = {
                "deployment": str(deployment.id),
                "namespace": str(deployment.namespace_id),
                "pipeline": str(deployment.pipeline_id),
            }
        started = time.perf_counter()
        with engine.begin() as connection:
            params = {**ids, "t0": t0, "n": args.fires}
            connection.execute(SEED_RUNS, params)
            connection.execute(SEED_OCCURRENCES, params)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE runs"))
            connection.execute(text("ANALYZE occurrences"))
        log(f"seeded {args.fires} occurrences in {time.perf_counter() - started:.1f} s")
        timings = asyncio.run(_measure(settings, ids["deployment"], args.calls))
        engine.dispose()
    for name, values in timings.items():
        p95 = percentile(values, 95)
        figure(f"occurrences.{name}.p50", percentile(values, 50), "ms", fires=args.fires)
        figure(f"occurrences.{name}.p95", p95, "ms", ratio_to_target=p95 / TARGET_MS, target_ms=TARGET_MS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
