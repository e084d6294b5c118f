"""What a batch's claimed deployments' fire times become at one `now`: fire times computed once per shared schedule.

The schedule loop (scheduler.schedule_loop) writes what these decisions plan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.scheduling.planning import Plan, Policies, later_late_wanted, plan, plan_ahead
from app.scheduling.spec import schedule_from_json
from app.scheduling.spec import window as stored_window
from app.scheduling.timing import Fire, fires, next_fire

#: Fire times handled per deployment per tick (a long downtime is worked off over several ticks).
MAX_FIRES_PER_TICK = 10_000

#: The first of the claimed row's columns that a plan does not depend on (claim_due_deployments): the columns
#: between the id and it are all a plan depends on.
_RUN_COLUMNS_FROM = "timeout_seconds"


class Decisions:
    """What each claimed deployment's fire times become, for one batch at one `now`.

    Deployments that share a schedule and were last handled at the same time (the common case:
    many deployments on one cron line) share one fire-time computation and one plan.
    """

    def __init__(self, now: datetime, horizon: datetime) -> None:
        self.now = now
        self.horizon = horizon
        self._fires: dict[tuple[Any, ...], tuple[list[Fire], datetime | None]] = {}
        self._plans: dict[tuple[Any, ...], tuple[Plan, datetime, datetime | None]] = {}
        self._planned_to = 0

    def __call__(self, deployment: Any, active: int, held: int) -> tuple[Plan, datetime, datetime | None]:
        """(plan, last fire time handled, next fire time to handle) for one deployment row."""
        if not self._planned_to:
            self._planned_to = deployment._fields.index(_RUN_COLUMNS_FROM)
        # the decision depends on nothing else; a slice by position costs a fraction of 13 lookups by name
        key = (deployment[1 : self._planned_to], active, held)
        decision = self._plans.get(key)
        if decision is None:
            decision = self._plans[key] = self._decide_row(deployment, active, held)
        return decision

    def _decide_row(self, deployment: Any, active: int, held: int) -> tuple[Plan, datetime, datetime | None]:
        # a row stored before the 1900-8999 rule (migration 0018 rewrites those) plans as that rule reads it
        start_at, end_at = stored_window(deployment.start_at, deployment.end_at)
        schedule = schedule_from_json(
            deployment.schedule_json,
            dst_gap=deployment.dst_gap,
            dst_fold=deployment.dst_fold,
            default_anchor=start_at or deployment.created_at,
        )
        after = deployment.last_scheduled_for or deployment.created_at
        window = (schedule, after, start_at, end_at)
        policies = Policies(
            misfire_policy=deployment.misfire_policy,
            misfire_grace_seconds=deployment.misfire_grace_seconds,
            max_catch_up=deployment.max_catch_up,
            max_concurrent_runs=deployment.max_concurrent_runs,
            overlap_policy=deployment.overlap_policy,
        )
        return self._decide(window, policies, active, held)

    def _decide(
        self, window: tuple[Any, ...], policies: Policies, active: int, held: int
    ) -> tuple[Plan, datetime, datetime | None]:
        after = window[1]
        found, next_after_horizon = self._window(window)
        due = [f for f in found if f.at <= self.now]
        more = len(found) >= MAX_FIRES_PER_TICK
        later_late = self._later_late(window, found[-1].at, policies) if more else 0
        planned = plan(due, self.now, policies, active=active, held=held, later_late=later_late)
        if more:  # more to do: continue right after the last one handled
            last = due[-1].at if due else after
            return planned, last, last
        ahead = found[len(due) :]
        if not ahead:
            return planned, max(self.horizon, after), next_after_horizon
        extra = None
        if not planned.cancel_running:
            planned_held = sum(run.held for run in planned.runs)
            extra = plan_ahead(
                ahead,
                policies,
                active=active + len(planned.runs) - planned_held,
                held=held + planned_held,
            )
        if extra is None:  # planned at their time instead; claimed again until then
            return planned, max(self.now, after), ahead[0].at
        planned.runs += extra.runs
        planned.skipped += extra.skipped
        return planned, max(self.horizon, after), next_after_horizon

    def _later_late(self, window: tuple[Any, ...], last: datetime, policies: Policies) -> int:
        """Missed fire times after `last` (the end of a chunk), counted up to what the misfire policy may keep."""
        wanted = later_late_wanted(policies)
        if not wanted:
            return 0
        schedule, _, start_at, end_at = window
        # late: older than the grace when seen (plan's test is strict: exactly the grace is not late)
        cutoff = self.now - timedelta(seconds=policies.misfire_grace_seconds, microseconds=1)
        later = fires(schedule, last, cutoff, start_at=start_at, end_at=end_at, limit=wanted)
        return sum(1 for fire in later if fire.skipped is None)

    def _window(self, window: tuple[Any, ...]) -> tuple[list[Fire], datetime | None]:
        """Fire times in (after, horizon], and the first one after the horizon (memoised per batch)."""
        cached = self._fires.get(window)
        if cached is None:
            schedule, after, start_at, end_at = window
            found = fires(schedule, after, self.horizon, start_at=start_at, end_at=end_at, limit=MAX_FIRES_PER_TICK)
            following = next_fire(schedule, max(self.horizon, after), start_at=start_at, end_at=end_at)
            cached = self._fires[window] = (found, following)
        return cached
