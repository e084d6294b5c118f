"""A stopping scheduler ends every loop at once, however long a loop was set to wait for a NOTIFY.

The relay and the webhook sender sleep on LISTEN until a NOTIFY, a due row or their poll interval (the webhook
sender's is 30 s by default). They looked at the stop only between waits, so a SIGTERM left `stop()` joining them
for its 10 s per thread, and the process exited ~10 s late: a rolling restart, `conveyor up`'s Ctrl-C and every
stop of a test system paid it.
"""

from __future__ import annotations

import time

import msgspec
import psycopg
import pytest

from app.settings import Settings
from scheduler.service import SchedulerService

#: How long the loops may take to notice the stop: far below the 10 s `stop()` gives each thread, far above a tick.
PROMPT = 3.0
#: Poll intervals no loop may wait out in this test: only the stop can end their waits.
LONG_POLL = 3600.0


def listeners(settings: Settings) -> set[str]:
    """The LISTEN statements of the sessions in the test's database."""
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        ).fetchall()
    return {query for (query,) in rows}


@pytest.mark.timeout(120)
def test_stop_ends_the_loops_waiting_for_a_notify_at_once(settings: Settings) -> None:
    # Given a scheduler whose relay and webhook sender wait an hour between polls, both listening
    service = SchedulerService(
        msgspec.structs.replace(settings, relay_poll_seconds=LONG_POLL, webhook_poll_seconds=LONG_POLL)
    )
    service.start()
    try:
        give_up = time.monotonic() + 60
        while not listeners(settings) >= {"LISTEN conveyor_outbox", "LISTEN conveyor_webhooks"}:
            assert time.monotonic() < give_up, f"the loops never listened: {listeners(settings)}"
            time.sleep(0.05)
        time.sleep(0.5)  # both are now inside their wait for a NOTIFY
    finally:
        # When it stops
        started = time.monotonic()
        service.stop()
        took = time.monotonic() - started
        service.broker.close()
    # Then every loop has ended, promptly
    assert [t.name for t in service._threads if t.is_alive()] == []
    assert took < PROMPT, f"stop() took {took:.1f} s"
