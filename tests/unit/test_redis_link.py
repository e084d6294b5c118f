"""A component's lost Redis is said once per outage, and a flapping link at most once in the quiet period."""

from __future__ import annotations

import logging

import pytest
import redis

from app.redis_link import RedisLink, redis_unreachable


def test_an_outage_is_one_warning_and_one_info_and_a_flapping_link_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    link = RedisLink(
        logging.getLogger("test.redis"),
        while_lost="runs wait",
        when_back="sending again",
        deferred="runs put back",
        clock=lambda: now[0],
        quiet=60.0,
    )
    caplog.set_level(logging.DEBUG, logger="test.redis")
    link.ok()  # nothing to say while Redis answers
    for _ in range(14):  # every failed call of every thread during one outage
        link.lost(redis.ConnectionError("refused"), deferred=2)
    now[0] = 20.0
    link.ok()
    link.ok()
    now[0] = 30.0  # lost again within the quiet period: debug, not said
    link.lost(redis.ConnectionError("refused"))
    assert link.is_lost
    now[0] = 31.0
    link.ok()
    now[0] = 200.0  # a later outage is said again
    link.lost(redis.ConnectionError("refused"), deferred=1)
    now[0] = 205.0
    link.ok()
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno > logging.DEBUG]
    assert [level for level, _ in said] == ["WARNING", "INFO", "WARNING", "INFO"]
    assert said[0][1] == "Lost the connection to Redis (ConnectionError: refused); runs wait"
    assert said[1][1] == "Reconnected to Redis after 20.0 s (runs put back meanwhile: 28); sending again"
    assert said[3][1] == "Reconnected to Redis after 5.0 s (runs put back meanwhile: 1); sending again"
    assert len([r for r in caplog.records if r.levelno == logging.DEBUG]) == 13 + 1 + 1
    assert not link.is_lost


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), True),
        (redis.TimeoutError("Timeout reading from socket"), True),
        (redis.BusyLoadingError("Redis is loading the dataset in memory"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), False),
        (redis.exceptions.NoScriptError("NOSCRIPT"), False),
        (ValueError("not Redis"), False),
    ],
)
def test_only_a_lost_connection_is_an_outage(error: Exception, outage: bool) -> None:
    assert redis_unreachable(error) is outage


def test_while_lost_one_caller_per_probe_period_tries_redis_and_the_skipped_are_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    link = RedisLink(
        logging.getLogger("test.link"), while_lost="x", when_back="y", deferred="skipped", clock=lambda: now[0], probe=2
    )
    caplog.set_level(logging.INFO, "test.link")
    assert link.may_try()
    link.lost(redis.TimeoutError("silent"), deferred=1)
    now[0] = 1.0
    assert [link.may_try() for _ in range(3)] == [False] * 3
    link.skipped()
    now[0] = 2.5
    assert [link.may_try() for _ in range(3)] == [True, False, False]  # one probe; the others skip
    link.ok()
    assert link.may_try()
    assert caplog.messages[-1].startswith("Reconnected to Redis after 2.5 s (skipped meanwhile: 2)")
