import random

import pytest

from app.domain.retry import backoff_seconds, retries_left


def test_backoff_doubles_until_the_cap() -> None:
    delays = [backoff_seconds(n, base=2, cap=10, jitter=0) for n in range(1, 6)]
    assert delays == [2, 4, 8, 10, 10]


def test_jitter_adds_at_most_its_fraction() -> None:
    rng = random.Random(7)
    delays = [backoff_seconds(3, base=1, cap=100, jitter=0.5, rng=rng) for _ in range(200)]
    assert all(4 <= d <= 6 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # really spread out


def test_huge_retry_numbers_do_not_overflow() -> None:
    assert backoff_seconds(10_000, base=1, cap=60, jitter=0) == 60


def test_retry_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        backoff_seconds(0, base=1, cap=1, jitter=0)


@pytest.mark.parametrize(
    ("attempt", "base", "max_retries", "expected"),
    [(1, 0, 0, False), (1, 0, 1, True), (2, 0, 1, False), (3, 2, 1, True), (4, 2, 1, False)],
)
def test_retry_budget(attempt: int, base: int, max_retries: int, expected: bool) -> None:
    assert retries_left(attempt, base, max_retries) is expected
