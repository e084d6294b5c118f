"""What one deployment's due fire times become: runs, held runs, or occurrences with a reason. Pure.

The schedule loop hands in the fire times since the deployment was last
handled, `now`, and how many of its runs are unfinished; this module applies
the misfire policy, then the overlap policy, and says what to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.scheduling import policies as bounds
from app.scheduling.policies import MisfirePolicy, OverlapPolicy
from app.scheduling.reasons import ReasonCode
from app.scheduling.timing import Fire

#: Why a fire time the schedule itself drops has no run.
DST_REASON = "the local time does not exist (DST)"


@dataclass(frozen=True, kw_only=True)
class Policies:
    """A deployment's planning policies; a row out of bounds (written around the API) raises ValueError here."""

    misfire_policy: str = MisfirePolicy.RUN_ONCE
    misfire_grace_seconds: float = 60
    max_catch_up: int = 10
    max_concurrent_runs: int = 1
    overlap_policy: str = OverlapPolicy.SKIP

    def __post_init__(self) -> None:
        MisfirePolicy(self.misfire_policy)
        OverlapPolicy(self.overlap_policy)
        bounds.MISFIRE_GRACE_SECONDS.check("misfire_grace_seconds", self.misfire_grace_seconds)
        bounds.MAX_CATCH_UP.check("max_catch_up", self.max_catch_up)
        bounds.MAX_CONCURRENT_RUNS.check("max_concurrent_runs", self.max_concurrent_runs)


#: A fire time that produces no run: (fire time, outcome, reason, reason code).
Skipped = tuple[datetime, str, str, ReasonCode]


@dataclass(frozen=True)
class PlannedRun:
    scheduled_for: datetime
    held: bool = False


@dataclass
class Plan:
    runs: list[PlannedRun] = field(default_factory=list)
    #: (fire time, outcome, reason, reason code) for fire times that produce no run.
    skipped: list[Skipped] = field(default_factory=list)
    #: Cancel the deployment's unfinished runs first (overlap policy cancel_running).
    cancel_running: bool = False


def plan(fires: list[Fire], now: datetime, policies: Policies, *, active: int, held: int, later_late: int = 0) -> Plan:
    """Apply the misfire policy, then the overlap policy, to `fires` (oldest first).

    `later_late`: how many missed fire times follow these (a long downtime is planned in chunks), counted up to
    what the policy keeps (later_late_wanted): run_once coalesces into the newest of the whole downtime, and
    catch_up keeps its newest max_catch_up, so those later ones go first.
    """
    result = Plan()
    due: list[datetime] = []
    for fire in fires:
        if fire.skipped:
            result.skipped.append((fire.at, fire.skipped, DST_REASON, ReasonCode.DST_GAP))
        else:
            due.append(fire.at)
    late = [t for t in due if (now - t).total_seconds() > policies.misfire_grace_seconds]
    late_ones = set(late)  # built once: in the comprehension's test it was built again for every fire time
    to_run = [t for t in due if t not in late_ones]
    grace = f"seen {{:.0f}} s late (grace {policies.misfire_grace_seconds:g} s)"
    if late and policies.misfire_policy == MisfirePolicy.SKIP:
        result.skipped += [
            (t, "misfire_skipped", grace.format((now - t).total_seconds()), ReasonCode.MISFIRE_GRACE) for t in late
        ]
    elif late and policies.misfire_policy == MisfirePolicy.RUN_ONCE and later_late:
        later = "coalesced into the run for a later missed fire time"
        result.skipped += [(t, "coalesced", later, ReasonCode.COALESCED) for t in late]
    elif late and policies.misfire_policy == MisfirePolicy.RUN_ONCE:
        newest = late[-1]
        into = f"coalesced into the run for {newest.isoformat()}"
        result.skipped += [(t, "coalesced", into, ReasonCode.COALESCED) for t in late[:-1]]
        to_run.insert(0, newest)
    elif late:  # catch_up: each missed time, the newest max_catch_up of them (those of later chunks first)
        keep = max(0, policies.max_catch_up - later_late)
        kept = late[len(late) - keep :] if keep else []
        result.skipped += [
            (t, "misfire_skipped", f"beyond max_catch_up={policies.max_catch_up}", ReasonCode.MAX_CATCH_UP)
            for t in late[: len(late) - len(kept)]
        ]
        to_run = kept + to_run
    # Runs already held take the free slots first (release_held_runs sends them, oldest first): a new fire time
    # waits behind them, and no scheduler's release can meet a slot this plan handed out as well.
    released = min(held, max(0, policies.max_concurrent_runs - active))
    active, held = active + released, held - released
    slots = policies.max_concurrent_runs - active
    for at in sorted(to_run):
        if policies.overlap_policy == OverlapPolicy.ALLOW or slots > 0:
            result.runs.append(PlannedRun(at))
            slots -= 1
        elif policies.overlap_policy == OverlapPolicy.CANCEL_RUNNING:
            result.cancel_running = True
            result.runs.append(PlannedRun(at))
        elif policies.overlap_policy == OverlapPolicy.BUFFER_ALL or (
            policies.overlap_policy == OverlapPolicy.BUFFER_ONE and held == 0
        ):
            result.runs.append(PlannedRun(at, held=True))
            held += 1
        else:
            reason = f"max_concurrent_runs={policies.max_concurrent_runs} reached"
            result.skipped.append((at, "overlap_skipped", reason, ReasonCode.OVERLAP_LIMIT))
    if result.cancel_running and len(result.runs) > policies.max_concurrent_runs:
        # cancel_running cancels the runs already there; of those this plan makes (a catch-up), the newest win too
        superseded = result.runs[: len(result.runs) - policies.max_concurrent_runs]
        result.runs = result.runs[len(superseded) :]
        reason = "superseded by the run for a later fire time (cancel_running)"
        result.skipped += [(run.scheduled_for, "overlap_skipped", reason, ReasonCode.SUPERSEDED) for run in superseded]
    return result


def later_late_wanted(policies: Policies) -> int:
    """How many missed fire times after a chunk `plan` needs counted (`later_late`): as many as could still run."""
    if policies.misfire_policy == MisfirePolicy.RUN_ONCE:
        return 1
    if policies.misfire_policy == MisfirePolicy.CATCH_UP:
        return policies.max_catch_up
    return 0


def plan_ahead(fires: list[Fire], policies: Policies, *, active: int, held: int) -> Plan | None:
    """Plan fire times that are still to come, or None while their fate depends on what happens first.

    A future fire time becomes a run ahead of time only when it is sure to get a slot: overlap `allow`,
    or nothing held and enough free slots for all of them (`active` and `held` count the runs planned
    for the due fire times too). Otherwise it is planned at its time, by `plan`, with the counts then.
    """
    runnable = [fire.at for fire in fires if not fire.skipped]
    crowded = held or active + len(runnable) > policies.max_concurrent_runs
    if policies.overlap_policy != OverlapPolicy.ALLOW and crowded:
        return None
    return Plan(
        runs=[PlannedRun(at) for at in runnable],
        skipped=[(fire.at, fire.skipped, DST_REASON, ReasonCode.DST_GAP) for fire in fires if fire.skipped],
    )
