"""Run states, kinds and triggers, and the one table of allowed transitions."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Set
from enum import StrEnum
from typing import LiteralString, cast


class RunStatus(StrEnum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    RETRYING = "RETRYING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"
    SKIPPED = "SKIPPED"


class RunKind(StrEnum):
    PIPELINE = "pipeline"
    INGEST = "ingest"


class RunTrigger(StrEnum):
    API = "api"
    BATCH = "batch"
    MANUAL = "manual"
    SCHEDULE = "schedule"
    BACKFILL = "backfill"


class EventReason(StrEnum):
    """Why a run changed state (a run event's `reason`): written by the API, the scheduler, the relay, a worker
    (an attempt's outcome, workers/outcomes.py) and the reaper. tests/unit/test_console_codes.py checks this list
    against every reason the sources write."""

    CREATED = "created"
    CREATED_HELD = "created_held"
    RELEASED = "released"
    DISPATCHED = "dispatched"
    MESSAGE_RESENT = "message_resent"
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    WORKER_SHUTDOWN = "worker_shutdown"
    LOST = "lost"
    WORKER_LOST = "worker_lost"
    CANCEL_REQUESTED = "cancel_requested"
    OVERLAP_CANCEL_RUNNING = "overlap_cancel_running"
    MANUAL_RETRY = "manual_retry"
    #: Cancelled at once because the dataset it writes was deleted (app/domain/datasets.py).
    DATASET_DELETED = "dataset_deleted"


S = RunStatus

#: Every allowed (from → to). A manual retry moves a finished, unsuccessful run back to PENDING.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.PENDING: frozenset({S.QUEUED, S.CANCELLED, S.SKIPPED}),
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.TIMED_OUT, S.RETRYING}),
    S.RETRYING: frozenset({S.QUEUED, S.CANCELLED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset({S.PENDING}),
    S.CANCELLED: frozenset({S.PENDING}),
    S.TIMED_OUT: frozenset({S.PENDING}),
    S.SKIPPED: frozenset(),
}

#: States a run leaves only by a manual retry, if at all.
FINAL: frozenset[RunStatus] = frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.TIMED_OUT, S.SKIPPED})

#: States of a run not yet over: they count against a deployment's max_concurrent_runs.
ACTIVE: frozenset[RunStatus] = frozenset(RunStatus) - FINAL

#: States of a run handed to the broker or a worker (its message may sit in a broker queue).
DISPATCHED: frozenset[RunStatus] = frozenset({S.QUEUED, S.RUNNING})

#: Final states of a run that ended unsuccessfully on its own (the failure metrics and list count these).
FAILURES: frozenset[RunStatus] = frozenset({S.FAILED, S.TIMED_OUT})

#: Final states of a run that was not skipped: what success rates are taken over.
CONCLUDED: frozenset[RunStatus] = FINAL - {S.SKIPPED}

#: States that a cancel request ends at once, without asking a worker.
CANCEL_AT_ONCE: frozenset[RunStatus] = frozenset({S.PENDING, S.QUEUED, S.RETRYING})


class IllegalTransition(ValueError):
    """Code asked for a transition the table does not allow: a bug, never user input."""


def is_allowed(source: RunStatus, target: RunStatus) -> bool:
    """Whether the state machine allows `source → target`."""
    return target in TRANSITIONS[source]


def sources(target: RunStatus, among: Iterable[RunStatus] | None = None) -> list[str]:
    """The states a run may move to `target` from, optionally narrowed to `among`.

    Every conditional UPDATE takes its `WHERE status = ANY(...)` list from here,
    so the table above is the single definition of the state machine.
    """
    allowed: Set[RunStatus] = _allowed_sources(target)
    if among is not None:
        wanted = set(among)
        illegal = wanted - allowed
        if illegal:
            raise IllegalTransition(f"{sorted(illegal)} → {target} is not an allowed transition")
        allowed = wanted
    return sorted(s.value for s in allowed)


@functools.cache
def _allowed_sources(target: RunStatus) -> frozenset[RunStatus]:
    """Every state the table allows `target` from (the table never changes: each worker run reads this)."""
    return frozenset(s for s in RunStatus if is_allowed(s, target))


def sql_list(statuses: Iterable[RunStatus]) -> LiteralString:
    """`'A', 'B'` for a SQL `IN (...)`, in the enum's order (so generated SQL is stable).

    Static SQL (LiteralString) although computed: it is made of this enum's values only, never of input.
    """
    chosen = set(statuses)
    return cast(LiteralString, ", ".join(f"'{s.value}'" for s in RunStatus if s in chosen))


def sql_array(values: Iterable[str]) -> LiteralString:
    """`'{A,B}'`: one array constant, for `column = ANY (...)` in a trigger's WHEN or a CHECK.

    Postgres stores those as expression trees and reads them back for every statement on the table: an
    `IN ('A', 'B')` list is a node per value (several kB for a status set), one array constant is a few hundred
    bytes. Static SQL, like sql_list: made of enum values only (no quotes, commas or braces in them).
    """
    return cast(LiteralString, "'{" + ",".join(values) + "}'")


def _status_array(statuses: Iterable[RunStatus]) -> LiteralString:
    chosen = set(statuses)
    return sql_array(s.value for s in RunStatus if s in chosen)


#: `{{NAME}}` tokens the SQL under sql/ may use for a status set, substituted when it is loaded (app.db.queries).
#: `NAME_ARRAY` is the same set as one array constant (sql_array).
SQL_TOKENS: dict[str, str] = {
    "ACTIVE": sql_list(ACTIVE),
    "FINAL": sql_list(FINAL),
    "DISPATCHED": sql_list(DISPATCHED),
    "FAILURES": sql_list(FAILURES),
    "CONCLUDED": sql_list(CONCLUDED),
    "CANCEL_AT_ONCE": sql_list(CANCEL_AT_ONCE),
    "FINAL_ARRAY": _status_array(FINAL),
    "CONCLUDED_ARRAY": _status_array(CONCLUDED),
}
