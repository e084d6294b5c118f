"""Run logs live in Postgres: readable from an API host that shares no disk with the worker, kept
across a worker killed mid-run, and paged exactly through a long log; old log files still read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import redis
from litestar.testing import TestClient
from sqlalchemy import text

from app.api.app import create_app
from app.core.states import RunStatus
from app.domain.runlog_buffer import RunLogBuffer, RunLogWriter
from app.domain.runlogs import LogLine, encode_line
from app.paths import run_log_path
from app.settings import Settings
from tests.integration.conftest import make_user, sign_in
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import log_lines, run_status

REPO = Path(__file__).resolve().parents[2]

#: A worker process that runs one attempt of the run named on its command line, configured from the environment.
VICTIM = """
import sys, uuid, redis
from app.db.engine import get_engine
from app.settings import get_settings
from workers.executor import Executor
from workers.runtime import ActiveRuns
settings = get_settings()
executor = Executor(engine=get_engine(settings), redis_client=redis.Redis.from_url(settings.redis_url),
                    settings=settings, active=ActiveRuns())
executor.execute(uuid.UUID(sys.argv[1]))
"""


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_log_a_worker_wrote_is_read_by_an_api_host_that_shares_no_disk_with_it(
    parts: Engine_, fast_settings: Settings, tmp_path: Path
) -> None:
    # Given a run executed by a worker whose data root is its own
    parts.pipeline("chatty", [{"type": "log", "message": f"line {i}"} for i in range(5)])
    [run_id] = parts.submit("chatty")
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED

    # When an API whose data root is another, empty, directory reads it
    api_root = tmp_path / "host-a"
    api_root.mkdir()
    api_settings = msgspec.structs.replace(fast_settings, data_root=str(api_root))
    make_user(parts.engine, api_settings, "reader", superuser=True)
    with TestClient(app=create_app(api_settings)) as api:
        api.headers["Authorization"] = f"Bearer {sign_in(api, 'reader')['access_token']}"
        page = api.get(f"/api/v1/runs/{run_id}/logs", params={"after": 1, "limit": 3}).json()
        streamed = api.get(f"/api/v1/runs/{run_id}/logs/stream", headers={"Last-Event-ID": "4"}).text

    # Then the page and the resumed stream hold the worker's lines
    stored = [(x.n, x.message) for x in log_lines(parts.engine, run_id)]
    assert "line 4" in [message for _, message in stored]
    assert [(line["n"], line["message"]) for line in page["items"]] == stored[1:4]
    assert (page["next_after"], page["run_status"]) == (4, "SUCCEEDED")
    ids = [int(x.removeprefix("id: ")) for x in streamed.splitlines() if x.startswith("id: ")]
    assert ids == [n for n, _ in stored[4:]]
    assert "event: end" in streamed
    assert f'"lines": {len(stored)}' in streamed
    # And nobody wrote a log file on either host
    assert list(api_root.iterdir()) == []
    assert not (parts.settings.data_path / "runs").exists()


def test_a_worker_killed_mid_run_loses_no_written_line_and_the_retry_numbers_on(
    parts: Engine_, settings: Settings
) -> None:
    # Given a run whose first attempt logs two lines, then sleeps, in a worker process of its own
    parts.pipeline(
        "sleepy",
        [{"type": "log", "message": "one"}, {"type": "log", "message": "two"}, {"type": "sleep", "seconds": 120}],
    )
    [run_id] = parts.submit("sleepy", max_retries=1)
    parts.relay.relay_once()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "CONVEYOR_DATA_ROOT": settings.data_root,
        "CONVEYOR_REDIS_NAMESPACE": settings.redis_namespace,
    }
    victim = subprocess.Popen([sys.executable, "-c", VICTIM, str(run_id)], cwd=REPO, env=env)
    try:
        # When its lines have been written while it runs, and it is killed
        wait_for(lambda: "two" in [x.message for x in log_lines(parts.engine, run_id)], "the lines to be stored")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    stored = log_lines(parts.engine, run_id)
    with parts.engine.begin() as connection:  # its lease runs out; the retry need not sleep
        connection.execute(
            text("UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
        connection.execute(
            text(
                "UPDATE pipeline_versions SET spec = jsonb_set(spec, '{steps,2,seconds}', '0') "
                "WHERE pipeline_id = (SELECT pipeline_id FROM runs WHERE id = :id)"
            ),
            {"id": run_id},
        )
    assert parts.reaper.reap_lost() == 1
    assert run_status(parts.engine, run_id) == "RETRYING"
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED

    # Then attempt 1's lines are all there, and attempt 2 numbers on from them
    lines = log_lines(parts.engine, run_id)
    assert [x.n for x in lines] == list(range(1, len(lines) + 1))
    assert [x for x in lines if x.attempt == 1] == stored
    assert stored[0].message.startswith("attempt 1 started")
    assert {"one", "two"} <= {x.message for x in stored}
    second = [x for x in lines if x.attempt == 2]
    assert second[0].n == len(stored) + 1
    assert second[0].message.startswith("attempt 2 started")
    assert second[-1].message.startswith("SUCCEEDED")


def test_a_100000_line_log_pages_exactly(parts: Engine_, client: TestClient, redis_client: redis.Redis) -> None:
    # Given a running run that logged 100,000 lines through the worker's buffer
    parts.pipeline("long", [])
    [run_id] = parts.submit("long")
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET status = 'RUNNING', attempt = 1 WHERE id = :id"), {"id": run_id})
    buffer = RunLogBuffer(
        engine=parts.engine, redis_client=None, redis_namespace=parts.settings.redis_namespace, maxlen=10
    )
    writer = RunLogWriter(buffer=buffer, run_id=run_id, attempt=1, first_line=1)
    for i in range(1, 100_001):
        writer.write(f"message {i}")
    buffer.flush_all()

    # When it is read page by page, from the start, and from arbitrary points
    seen: list[int] = []
    after = 0
    while True:
        page = client.get(f"/api/v1/runs/{run_id}/logs", params={"after": after, "limit": 5000}).json()
        if not page["items"]:
            break
        assert all(x["message"] == f"message {x['n']}" for x in page["items"])
        seen.extend(x["n"] for x in page["items"])
        after = page["next_after"]

    # Then every line comes once, in order, and any page is exactly the lines asked for
    assert seen == list(range(1, 100_001))
    for start, limit in [(0, 1000), (499, 1000), (500, 1), (77_777, 1000), (99_990, 1000), (100_000, 10)]:
        items = client.get(f"/api/v1/runs/{run_id}/logs", params={"after": start, "limit": limit}).json()["items"]
        assert [x["n"] for x in items] == list(range(start + 1, min(start + limit, 100_000) + 1))
    with parts.engine.connect() as connection:
        biggest = connection.execute(
            text("SELECT max(last_n - first_n + 1) FROM run_log_chunks WHERE run_id = :id"), {"id": run_id}
        ).scalar_one()
    assert biggest <= buffer.max_lines


def test_a_log_file_from_before_the_move_is_still_read_when_the_run_has_no_stored_lines(
    parts: Engine_, client: TestClient, fast_settings: Settings
) -> None:
    parts.pipeline("old", [])
    [run_id] = parts.submit("old")
    path = run_log_path(fast_settings.data_path, run_id)
    path.parent.mkdir(parents=True)
    lines = [LogLine(n=n, ts=datetime.now(UTC), level="info", message=f"old {n}", attempt=1) for n in (1, 2, 3)]
    path.write_bytes(b"".join(encode_line(x) + b"\n" for x in lines))
    page = client.get(f"/api/v1/runs/{run_id}/logs", params={"after": 1, "limit": 1}).json()
    assert [x["message"] for x in page["items"]] == ["old 2"]
