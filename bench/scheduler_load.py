"""10,000 deployments firing every minute: the schedule loop's CPU per minute, and fire lateness to QUEUED.

Runs the real schedule loop and relay in this process against a fresh database
and Redis for two minutes of wall-clock schedule time (no workers: only the
path from fire time to QUEUED is measured). Reference targets from the issue:
CPU <= 2 s per schedule minute, lateness p99 <= 1 s.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.db import migrate
from app.db.engine import get_engine
from app.settings import Settings
from bench._servers import BenchServers, figure, percentile
from scheduler.relay import Relay
from scheduler.schedule_loop import ScheduleLoop
from workers.broker import build_broker

DEPLOYMENTS = 10_000
MINUTES = 2
TICK_SECONDS = 0.25

_SEED = text("""
    INSERT INTO pipelines (id, namespace_id, name) VALUES (gen_random_uuid(), (SELECT id FROM namespaces
        WHERE name = 'default'), 'noop') RETURNING id
""")
_DEPLOY = text("""
    INSERT INTO deployments (id, namespace_id, name, pipeline_id, schedule, misfire_policy, misfire_grace_seconds,
        max_catch_up, max_concurrent_runs, overlap_policy, dst_gap, dst_fold, max_retries, next_run_at,
        last_scheduled_for)
    SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'd' || i, :pipeline,
        '{"kind": "cron", "cron": "* * * * *", "timezone": "UTC"}', 'run_once', 60, 10, 1, 'allow', 'shift',
        'first', 0, :first, :now
    FROM generate_series(1, :n) i
""")


def main(argv: list[str] | None = None) -> int:
    with BenchServers() as servers:
        url = servers.create_database()
        settings = Settings(
            database_url=url,
            redis_url=servers.redis_url,
            redis_namespace=servers.redis_prefix(),
            data_root=str(servers.tmp / "data"),
        )
        migrate.upgrade(settings.sqlalchemy_url)
        engine = get_engine(settings, pre_ping=False)
        now = datetime.now(UTC)
        first = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
        with engine.begin() as connection:
            pipeline = connection.execute(_SEED).scalar_one()
            connection.execute(
                text("INSERT INTO pipeline_versions (pipeline_id, version, spec) VALUES (:p, 1, '{\"steps\": []}')"),
                {"p": pipeline},
            )
            connection.execute(_DEPLOY, {"pipeline": pipeline, "first": first, "now": now, "n": DEPLOYMENTS})
        loop = ScheduleLoop(engine=engine, settings=settings, scheduler_id="bench-scheduler")
        broker = build_broker(settings)
        relay = Relay(engine=engine, broker=broker, relay_id="bench-relay", batch=settings.relay_batch)
        end = first + timedelta(minutes=MINUTES - 1, seconds=30)
        print(
            f"# scheduler_load: {DEPLOYMENTS} deployments, first fire {first.isoformat()}, "
            f"until {end.isoformat()} ({servers.where})",
            flush=True,
        )
        cpu_schedule = 0.0
        relay_cpu: list[float] = []
        stop = threading.Event()

        def relay_loop() -> None:  # as in `conveyor scheduler`: the relay runs beside the schedule loop
            started = time.thread_time()
            while not stop.is_set():
                if relay.relay_once() < relay.batch:
                    stop.wait(0.02)
            relay_cpu.append(time.thread_time() - started)

        relay_thread = threading.Thread(target=relay_loop)
        relay_thread.start()
        while datetime.now(UTC) < end:
            started = time.thread_time()
            loop.tick(datetime.now(UTC))
            cpu_schedule += time.thread_time() - started
            time.sleep(TICK_SECONDS)
        stop.set()
        relay_thread.join()
        cpu_relay = relay_cpu[0]
        with engine.connect() as connection:
            rows = (
                connection.execute(
                    text("SELECT extract(epoch FROM queued_at - scheduled_for) FROM runs WHERE trigger = 'schedule'")
                )
                .scalars()
                .all()
            )
            per_fire = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM runs WHERE trigger = 'schedule' "
                    "GROUP BY deployment_id, scheduled_for HAVING count(*) > 1) x"
                )
            ).scalar_one()
        broker.flush_all()
        broker.close()
        engine.dispose()
    lateness = [float(r) for r in rows if r is not None]
    minutes = MINUTES
    figure("scheduler.runs_created", len(rows), "runs", expected=DEPLOYMENTS * minutes, doubled_fire_times=per_fire)
    figure(
        "scheduler.cpu_per_schedule_minute",
        cpu_schedule / minutes,
        "s",
        ratio_to_target=cpu_schedule / minutes / 2.0,
        target_s=2.0,
        note="schedule_loop_only",
    )
    figure("scheduler.relay_cpu_per_schedule_minute", cpu_relay / minutes, "s", note="outbox_to_redis")
    figure("scheduler.lateness_to_queued.p50", percentile(lateness, 50) * 1000, "ms")
    figure(
        "scheduler.lateness_to_queued.p99",
        percentile(lateness, 99) * 1000,
        "ms",
        ratio_to_target=percentile(lateness, 99) / 1.0,
        target_ms=1000,
    )
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
