"""Why a fire time became what it did: one stable code per occurrence, which the console words in its own language.

The occurrence's `reason` stays the English detail (with its numbers); `reason_code` is what a reader keys on.
The console lists these codes (app/console/src/i18n/reasons.ts, checked by tests/unit/test_console_codes.py).
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Why a fire time made a run or none, as a stable code to key on and word in any language (see the README)."""

    #: The fire time made a run.
    RAN = "ran"
    #: Its run is held until the deployment has a free slot (overlap buffer_one / buffer_all).
    BUFFERED = "buffered"
    #: The local time does not exist (a DST gap) and the schedule skips it.
    DST_GAP = "dst_gap"
    #: Seen later than misfire_grace_seconds, and the misfire policy is skip.
    MISFIRE_GRACE = "misfire_grace"
    #: Coalesced into the run for a later missed fire time (misfire policy run_once).
    COALESCED = "coalesced"
    #: Missed, and beyond the max_catch_up newest that catch_up runs.
    MAX_CATCH_UP = "max_catch_up"
    #: max_concurrent_runs unfinished runs already (overlap policy skip, or buffer_one with one held).
    OVERLAP_LIMIT = "overlap_limit"
    #: Its run was superseded by the run for a later fire time (overlap policy cancel_running).
    SUPERSEDED = "superseded"
    #: Due while the deployment was paused.
    PAUSED = "paused"
    #: Its run was planned but the deployment was paused before the run was sent.
    PAUSED_UNSENT = "paused_unsent"
    #: Due before the deployment's schedule changed, and not handled by then.
    SCHEDULE_CHANGED = "schedule_changed"
    #: The scheduler could not plan or write it (the reason has the error); it tries again later.
    PLAN_FAILED = "plan_failed"
    #: The deployment's timeout_seconds is past what the instance allows, so no run can be made.
    TIMEOUT_TOO_LONG = "timeout_too_long"
    #: Recorded before reason codes existed, with a reason no known pattern matches.
    UNSPECIFIED = "unspecified"
