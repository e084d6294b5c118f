"""Celery: `celery -A bench._peer_apps.celery_app worker -P threads` (BENCH_REDIS_URL, BENCH_QUEUE, BENCH_RESULTS)."""

from __future__ import annotations

import os

from celery import Celery

QUEUE = os.environ.get("BENCH_QUEUE", "bench")
app = Celery(
    "bench",
    broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("BENCH_RESULTS", "redis://127.0.0.1:6379/0"),
)
app.conf.update(
    task_default_queue=QUEUE,
    broker_transport_options={"global_keyprefix": f"{QUEUE}:"},
    result_backend_transport_options={"global_keyprefix": f"{QUEUE}:"},
    result_expires=3600,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    database_create_tables_at_setup=True,
)


@app.task(name="noop")
def noop() -> None:
    """Does nothing: the job's round trip is the whole cost."""
