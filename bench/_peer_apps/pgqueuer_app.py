"""PgQueuer: `pgq run bench._peer_apps.pgqueuer_app:main` (BENCH_DATABASE_URL)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from pgqueuer import PgQueuer
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Job

ENTRYPOINT = "noop"


@asynccontextmanager
async def main() -> AsyncIterator[PgQueuer]:
    connection = await asyncpg.connect(os.environ["BENCH_DATABASE_URL"])
    pgq = PgQueuer(AsyncpgDriver(connection))

    @pgq.entrypoint(ENTRYPOINT)
    async def noop(job: Job) -> None:
        """Does nothing: the job's round trip is the whole cost."""

    try:
        yield pgq
    finally:
        await connection.close()


def run_worker(max_concurrent_tasks: int) -> None:
    """What `pgq run` does, without its log set-up (which fails in PgQueuer 1.6 on the default log level)."""
    import asyncio
    from datetime import timedelta

    from pgqueuer.adapters.cli import supervisor
    from pgqueuer.domain import types

    asyncio.run(
        supervisor.run(
            "bench._peer_apps.pgqueuer_app:main",
            dequeue_timeout=timedelta(seconds=30),
            batch_size=max(1, max_concurrent_tasks // 2),
            restart_delay=timedelta(seconds=5),
            restart_on_failure=False,
            mode=types.QueueExecutionMode.continuous,
            max_concurrent_tasks=max_concurrent_tasks,
            shutdown_on_listener_failure=False,
            heartbeat_timeout=timedelta(seconds=30),
        )
    )


if __name__ == "__main__":
    import sys

    run_worker(int(sys.argv[1]))
