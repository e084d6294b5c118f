"""10,000 deployments firing every minute: the scheduler's CPU per minute, and fire lateness to QUEUED.

Runs the real scheduler service (schedule loop, outbox relay and reaper, each
in its thread, as `conveyor scheduler` does) in this process against a fresh
database and Redis for two minutes of wall-clock schedule time (no workers:
only the path from fire time to QUEUED is measured). CPU is this whole
process's, so it counts all three loops. Targets from the issue: CPU <= 2 s
per schedule minute, lateness p99 <= 1 s.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench._servers import BenchServers, figure, migrated, noop_pipeline, percentile
from scheduler.service import SchedulerService

DEPLOYMENTS = 10_000
MINUTES = 2
TICK_SECONDS = 0.25

_DEPLOY = text("""
    INSERT INTO deployments (id, namespace_id, name, pipeline_id, schedule, misfire_policy, misfire_grace_seconds,
        max_catch_up, max_concurrent_runs, overlap_policy, dst_gap, dst_fold, max_retries, next_run_at,
        last_scheduled_for)
    SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'd' || i, :pipeline,
        '{"kind": "cron", "cron": "* * * * *", "timezone": "UTC"}', 'run_once', 60, 10, 1, 'allow', 'shift',
        'first', 0, :first, :now
    FROM generate_series(1, :n) i
""")


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each live thread of this process, by thread name (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[thread.name] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return used


def main(argv: list[str] | None = None) -> int:
    with BenchServers() as servers:
        settings, engine = migrated(servers)
        now = datetime.now(UTC)
        first = (now + timedelta(seconds=75)).replace(second=0, microsecond=0)  # >= 15 s to plan ahead
        with engine.begin() as connection:
            pipeline = noop_pipeline(connection)
            last = first - timedelta(minutes=1)  # handled up to the minute before the first fire time
            connection.execute(_DEPLOY, {"pipeline": pipeline, "first": first, "now": last, "n": DEPLOYMENTS})
        service = SchedulerService(settings)
        end = first + timedelta(minutes=MINUTES - 1, seconds=30)
        print(
            f"# scheduler_load: {DEPLOYMENTS} deployments, first fire {first.isoformat()}, "
            f"until {end.isoformat()}, lookahead {settings.schedule_lookahead_seconds:g} s ({servers.where})",
            flush=True,
        )
        cpu_started = time.process_time()
        service.start()
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
        per_thread = thread_cpu_seconds()
        service.stop()
        cpu = time.process_time() - cpu_started
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
        service.broker.flush_all()
        service.broker.close()
        service.engine.dispose()
        engine.dispose()
    lateness = [float(r) for r in rows if r is not None]
    minutes = MINUTES
    figure("scheduler.runs_created", len(rows), "runs", expected=DEPLOYMENTS * minutes, doubled_fire_times=per_fire)
    figure(
        "scheduler.cpu_per_schedule_minute",
        cpu / minutes,
        "s",
        ratio_to_target=cpu / minutes / 2.0,
        target_s=2.0,
        note="loop+relay+reaper",
    )
    for name, seconds in sorted(per_thread.items()):
        if name == "MainThread":  # the benchmark itself: setup, then sleeping
            continue
        figure(f"scheduler.cpu_per_schedule_minute.{name}", seconds / minutes, "s")
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
