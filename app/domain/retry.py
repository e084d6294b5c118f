"""Retry timing: exponential backoff with a cap and jitter, pure so it is unit tested."""

from __future__ import annotations

import random


def backoff_seconds(
    retry_number: int, *, base: float, cap: float, jitter: float, rng: random.Random | None = None
) -> float:
    """Delay before retry `retry_number` (1 for the first retry).

    base·2^(n-1), capped at `cap`, plus up to `jitter`·delay of random extra so
    that many runs failing together do not come back together.
    """
    if retry_number < 1:
        raise ValueError("retry_number starts at 1")
    delay = min(cap, base * (2 ** min(retry_number - 1, 32)))
    extra = (rng or random).uniform(0, jitter * delay) if jitter > 0 else 0.0
    return min(cap * (1 + jitter), delay + extra)


def retries_left(attempt: int, attempt_base: int, max_retries: int) -> bool:
    """Whether a run whose attempt `attempt` just failed may be tried again."""
    return attempt - attempt_base <= max_retries
