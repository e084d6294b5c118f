"""The rate limiter reaches the same Redis as everything else, whatever form the URL takes."""

from __future__ import annotations

import pytest

from app.api.rate_limit import _storage_uri


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("redis://127.0.0.1/7", "async+redis://127.0.0.1:6379/7"),  # redis-py's default port; limits wants it named
        ("redis://127.0.0.1:6380/0", "async+redis://127.0.0.1:6380/0"),
        ("redis://:secret@cache/1", "async+redis://:secret@cache:6379/1"),
        ("rediss://cache.example:6390/0", "async+rediss://cache.example:6390/0"),
        ("unix:///tmp/redis.sock?db=2", "async+redis+unix:///tmp/redis.sock?db=2"),
    ],
)
def test_a_redis_url_becomes_the_limits_storage_uri(redis_url: str, expected: str) -> None:
    assert _storage_uri(redis_url) == expected
