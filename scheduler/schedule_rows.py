"""The rows a tick writes, as the named queries read them (one JSON document per batch), and missed ranges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from app.domain.run_rows import ScheduledRun
from app.scheduling.planning import Skipped
from app.scheduling.reasons import ReasonCode
from app.scheduling.timing import MAX_SINGLE_MISSED

_encode = msgspec.json.Encoder().encode
#: The outcomes of missed fire times that a long downtime records as a range.
_RANGED = ("misfire_skipped", "coalesced")


def ranges_of(
    skipped: list[Skipped], deployment_id: uuid.UUID, previous: datetime
) -> tuple[list[Skipped], list[RangeRow]]:
    """The skipped fire times recorded one row each, and the long runs of missed ones recorded as one row.

    A plan's missed fire times of one outcome are the oldest of its fire times (a DST skip may fall among them), so
    past MAX_SINGLE_MISSED they are one range, which extends the range recorded at `previous` if there is one.
    The range's reason and its code are those of its last fire time.
    """
    ranges = []
    for outcome in _RANGED:
        missed = sorted(entry for entry in skipped if entry[1] == outcome)
        if len(missed) > MAX_SINGLE_MISSED:
            reason = f"a range of missed fire times; the last {missed[-1][2]}"
            first, last, code = missed[0][0], missed[-1][0], missed[-1][3]
            ranges.append(RangeRow(deployment_id, first, last, previous, len(missed), outcome, reason, code))
            skipped = [entry for entry in skipped if entry[1] != outcome]
    return skipped, ranges


class OccurrenceRow(msgspec.Struct):
    deployment_id: uuid.UUID
    scheduled_for: datetime
    outcome: str
    run_id: uuid.UUID | None
    reason: str
    reason_code: ReasonCode


class RangeRow(msgspec.Struct):
    """Missed fire times recorded as one occurrence (record_missed_ranges)."""

    deployment_id: uuid.UUID
    first: datetime
    last: datetime
    previous: datetime
    fire_times: int
    outcome: str
    reason: str
    reason_code: ReasonCode


class AdvanceRow(msgspec.Struct):
    id: uuid.UUID
    next_run_at: datetime | None
    last_scheduled_for: datetime


@dataclass
class Writes:
    """What one deployment's plan writes."""

    advance: AdvanceRow
    runs: list[ScheduledRun]
    occurrences: list[OccurrenceRow]
    cancel_running: bool
    ranges: list[RangeRow] = field(default_factory=list)


def rows_json(rows: list[Any]) -> dict[str, str]:
    """A batch of rows as one JSON document (json_to_recordset): far cheaper to bind than one array per column."""
    return {"rows": _encode(rows).decode()}
