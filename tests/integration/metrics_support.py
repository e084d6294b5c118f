"""Runs written straight into the runs table at known times, for the metrics tests (API and namespace filter)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

#: A window no other test writes runs into.
T0 = datetime(2031, 3, 1, 10, 0, tzinfo=UTC)
_RUN = text("""
INSERT INTO runs (id, namespace_id, kind, trigger, status, params, priority, attempt, max_retries,
                  retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                  created_at, queued_at, started_at, finished_at, error_code, progress)
SELECT :id, id, :kind, 'api', :status, '{}', 0, 1, 0, 10, 600, 0.2, 3600,
       :created, :created, CAST(:created AS timestamptz) + make_interval(secs => :wait),
       CAST(:created AS timestamptz) + make_interval(secs => :wait + :duration), :error, CAST(:progress AS jsonb)
FROM namespaces WHERE name = 'default'
""")


def add_run(engine: Engine, *, at: datetime, status: str, duration: float, wait: float = 1.0, rows: int = 0) -> None:
    with engine.begin() as connection:
        connection.execute(
            _RUN,
            {
                "id": uuid.uuid4(),
                "kind": "pipeline",
                "status": status,
                "created": at,
                "wait": wait,
                "duration": duration,
                "error": "step_failed" if status == "FAILED" else None,
                "progress": f'{{"rows_out": {rows}}}',
            },
        )


WINDOW = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat()}
