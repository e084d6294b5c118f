"""The reaper judges no lease until the database has been up for one: while it was down, nobody could heartbeat."""

from __future__ import annotations

import msgspec
from sqlalchemy import text

from scheduler.reaper import Reaper
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import run_status


def test_a_stale_heartbeat_is_not_judged_until_the_server_has_been_up_for_a_lease(parts: Engine_) -> None:
    # Given a RUNNING run whose heartbeat is far older than any lease
    parts.pipeline("across-a-restart", [])
    [run_id] = parts.submit("across-a-restart", max_retries=1)
    parts.relay.relay_once()
    with parts.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE runs SET status = 'RUNNING', attempt = 1, worker_id = 'busy', "
                "heartbeat_at = now() - interval '10 years' WHERE id = :id"
            ),
            {"id": run_id},
        )
        uptime = connection.execute(text("SELECT extract(epoch FROM now() - pg_postmaster_start_time())")).scalar()
    # When the server started less than a lease ago (a lease longer than its uptime says just that)
    settings = msgspec.structs.replace(parts.settings, lease_seconds=float(uptime) + 3600)
    reaper = Reaper(engine=parts.engine, broker=parts.broker, settings=settings, reaper_id="reaper-test")
    # Then the run is left to its worker, which renews the heartbeat once it can reach the database again
    assert reaper.reap_lost() == 0
    assert run_status(parts.engine, run_id) == "RUNNING"
    # And with the server up for longer than a lease, the same run is lost and retried
    assert parts.reaper.reap_lost() == 1
    assert run_status(parts.engine, run_id) == "RETRYING"
