"""10,000 run completions → 10,000 signed webhook deliveries to a local receiver: deliveries/s and p99 latency.

Two phases against a fresh database, with the scheduler's real webhook loop (NOTIFY wake-up, SKIP LOCKED
claim, concurrent signed POSTs) in this process and a threaded HTTP receiver on loopback:
1. offered load: 10,000 runs finish at 200 per second, one `finish_run` transaction each (as workers do);
   latency is event (the payload's timestamp, the finishing transaction's clock) → received. Target p99 <= 2 s.
2. burst: 10,000 runs finish at once (in transactions of 500); deliveries/s until the last arrives.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime

from sqlalchemy import text

from app.core.states import RunStatus, sources
from app.db.queries import query
from app.domain.runlog_buffer import chunk_params
from bench._servers import BenchServers, figure, migrated, noop_pipeline, percentile
from scheduler.service import SchedulerService
from tests.webhook_receiver import Receiver

RUNS = 10_000
RATE = 200.0
BURST_BATCH = 500
#: Connections finishing runs concurrently (a commit waits for the disk; one connection alone cannot offer 200/s).
DRIVERS = 8

_RUNS = text("""
    INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version, attempt,
                      max_retries, retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds)
    SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'pipeline', 'api', 'RUNNING',
           :pipeline, 1, 1, 0, 1, 1, 0, 60
    FROM generate_series(1, :n)
    RETURNING id
""")
_FINISH_MANY = text("UPDATE runs SET status = 'SUCCEEDED', finished_at = now() WHERE id = ANY(:ids)")


def _finish_params(run_id: object) -> dict[str, object]:
    return {
        "run_id": run_id,
        "attempt": 1,
        "to_status": "SUCCEEDED",
        "from_statuses": sources(RunStatus.SUCCEEDED, [RunStatus.RUNNING]),
        "error_code": None,
        "error_message": None,
        "progress": None,
        "log_lines": 0,
        "reason": "succeeded",
        "actor": "bench",
        "details": "{}",
        **chunk_params([]),  # no log lines to store with the outcome
    }


def _latencies(receiver: Receiver, first: int, count: int) -> list[float]:
    out = []
    for received in receiver.wait_for(first + count, timeout=600)[first:]:
        stamp = json.loads(received.body)["timestamp"]
        out.append(received.at - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    return out


def main(argv: list[str] | None = None) -> int:
    receiver = Receiver()
    with BenchServers() as servers:
        settings, engine = migrated(servers, webhook_allow_private=True)
        with engine.begin() as connection:
            pipeline = noop_pipeline(connection)
            connection.execute(
                text(
                    "INSERT INTO webhook_subscriptions (id, namespace_id, url, event_types, secret) "
                    "SELECT gen_random_uuid(), id, :url, ARRAY['run.succeeded'], :secret FROM namespaces "
                    "WHERE name = 'default'"
                ),
                {"url": receiver.url, "secret": "whsec_" + "A" * 43 + "="},
            )
            offered = connection.execute(_RUNS, {"pipeline": pipeline, "n": RUNS}).scalars().all()
            burst = connection.execute(_RUNS, {"pipeline": pipeline, "n": RUNS}).scalars().all()
        service = SchedulerService(settings)
        loop = threading.Thread(target=service._webhook_loop, name="webhooks", daemon=True)
        loop.start()
        print(f"# webhooks: {RUNS} completions at {RATE:g}/s, then {RUNS} at once ({servers.where})", flush=True)

        cpu_started, started = time.process_time(), time.monotonic()

        def drive(lane: int) -> None:
            """Every DRIVERS-th completion, each at its offered time (several lanes, as several workers commit)."""
            with engine.connect() as connection:
                for i in range(lane, RUNS, DRIVERS):
                    delay = started + i / RATE - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    with connection.begin():
                        connection.execute(query("finish_run"), _finish_params(offered[i]))

        drivers = [threading.Thread(target=drive, args=(lane,)) for lane in range(DRIVERS)]
        for thread in drivers:
            thread.start()
        for thread in drivers:
            thread.join()
        offered_seconds = time.monotonic() - started
        latency = _latencies(receiver, 0, RUNS)
        offered_cpu = time.process_time() - cpu_started

        burst_started = time.monotonic()
        with engine.connect() as connection:
            for i in range(0, RUNS, BURST_BATCH):
                with connection.begin():
                    connection.execute(_FINISH_MANY, {"ids": list(burst[i : i + BURST_BATCH])})
        receiver.wait_for(2 * RUNS, timeout=900)
        burst_seconds = time.monotonic() - burst_started

        service.stopping.set()
        loop.join(timeout=10)
        service.webhooks.close()
        with engine.connect() as connection:
            states = dict(connection.execute(text("SELECT status, count(*) FROM webhook_deliveries GROUP BY 1")).all())
        service.broker.close()
        service.engine.dispose()
        engine.dispose()
    receiver.close()
    figure("webhooks.delivered", states.get("succeeded", 0), "deliveries", expected=2 * RUNS, states=states)
    figure("webhooks.offered_rate", RUNS / offered_seconds, "events/s", target=RATE)
    figure("webhooks.latency.p50", percentile(latency, 50) * 1000, "ms")
    figure(
        "webhooks.latency.p99",
        percentile(latency, 99) * 1000,
        "ms",
        ratio_to_target=percentile(latency, 99) / 2.0,
        target_ms=2000,
    )
    figure("webhooks.cpu_per_1000_events", offered_cpu / RUNS * 1000, "s", note="sender+driver+receiver, this process")
    figure("webhooks.burst_throughput", RUNS / burst_seconds, "deliveries/s")
    return 0 if states.get("succeeded", 0) == 2 * RUNS else 1


if __name__ == "__main__":
    sys.exit(main())
