"""procrastinate: `procrastinate --app=bench._peer_apps.procrastinate_app.app worker` (BENCH_DATABASE_URL)."""

from __future__ import annotations

import os

from procrastinate import App, PsycopgConnector

QUEUE = "bench"
app = App(connector=PsycopgConnector(conninfo=os.environ.get("BENCH_DATABASE_URL", "")))


@app.task(name="noop", queue=QUEUE)
async def noop() -> None:
    """Does nothing: the job's round trip is the whole cost."""
