"""RQ: the no-op job, run by `rq worker -w rq.worker.SimpleWorker`."""

from __future__ import annotations


def noop() -> None:
    """Does nothing: the job's round trip is the whole cost."""
