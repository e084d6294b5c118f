"""What the Redis outage tests share: a real Redis behind a proxy that can refuse it, and what a logger said."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest

from app.settings import Settings
from tests.cutting_proxy import CuttingProxy


@pytest.fixture
def redis_proxy(settings: Settings) -> Iterator[CuttingProxy]:
    """The test's Redis through a proxy: `down()` drops its connections and refuses new ones until `up()`."""
    assert settings.redis_url
    proxied = CuttingProxy.redis(settings.redis_url)
    yield proxied
    proxied.close()


def wait_for(what: Callable[[], bool], limit: float = 30.0) -> None:
    """Until `what` holds, or `limit` seconds (not a failure in itself: the assertions after say what went wrong)."""
    deadline = time.monotonic() + limit
    while not what() and time.monotonic() < deadline:
        time.sleep(0.02)


def said(caplog: pytest.LogCaptureFixture, *loggers: str) -> list[tuple[str, str]]:
    """(level, message) of each record of `loggers` at INFO or above, in order."""
    return [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name in loggers and record.levelno >= logging.INFO
    ]


def loud(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    """Every record at ERROR or above, of any logger."""
    return [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR]
