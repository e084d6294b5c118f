"""A worker's lost Redis is said once per outage, and a flapping link at most once in the quiet period."""

from __future__ import annotations

import logging

import pytest

from workers.redis_link import RedisLink


def test_an_outage_is_one_warning_and_one_info_and_a_flapping_link_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    link = RedisLink(logging.getLogger("test.redis"), clock=lambda: now[0], quiet=60.0)
    caplog.set_level(logging.INFO, logger="test.redis")
    link.connection_ok()  # nothing to say while Redis answers
    for _ in range(14):  # every failed call of every consumer during one outage
        link.connection_lost(ConnectionError("refused"), 1.0)
    now[0] = 20.0
    link.connection_ok()
    link.connection_ok()
    now[0] = 30.0  # lost again within the quiet period: counted, not said
    link.connection_lost(ConnectionError("refused"), 1.0)
    assert link.lost
    now[0] = 31.0
    link.connection_ok()
    now[0] = 200.0  # a later outage is said again
    link.connection_lost(ConnectionError("refused"), 1.0)
    now[0] = 205.0
    link.connection_ok()
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in said] == ["WARNING", "INFO", "WARNING", "INFO"]
    assert said[1][1] == "Reconnected to Redis after 20.0 s; the consumers fetch again"
    assert said[3][1] == "Reconnected to Redis after 5.0 s; the consumers fetch again"
    assert not link.lost
