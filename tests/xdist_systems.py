"""How `make test` spreads tests over pytest-xdist workers: tests that start whole systems in two units of work.

Acceptance and browser tests start api, scheduler and worker processes (dozens of Postgres connections, and
the CPU of a 2-core machine), so at most two run at once: they form two units, each run whole and in order on
one worker, while the other tests go module by module to whichever worker is free. One unit holds the modules
whose tests all use the session's shared system (tests/acceptance/shared.py: one start, stopped after the
unit's last user), the other those that start systems of their own (`make_system`, own servers, `conveyor up`);
the two take about as long. The units go out first, as they are the longest.

This is our own scheduler rather than `--dist loadgroup` with `xdist_group` marks: with pytest 9.2, xdist
3.8's loadgroup silently stops grouping (it rewrites `item._nodeid`, which pytest no longer reads;
pytest-dev/pytest-xdist#1386), so system tests ran on both workers at once and each worker started and kept
a shared system of its own.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

#: Test folders whose tests start whole Conveyor systems.
SYSTEM_FOLDERS = ("acceptance", "browser")
#: Modules (under tests/acceptance) that start systems of their own; every other system test uses the shared one.
OWN_SYSTEM_MODULES = frozenset(
    {
        "test_dropped_sessions.py",
        "test_faults_under_load.py",
        "test_hosts_share_no_disk.py",
        "test_postgres_restart.py",
        "test_readme.py",
        "test_redis_loss.py",
        "test_scheduler.py",
        "test_up_embedded.py",
        "test_worker_killed.py",
        "test_worker_stopped.py",
    }
)
SHARED_UNIT = "systems:shared"
OWN_UNIT = "systems:own"


def unit_of(nodeid: str) -> str:
    """The unit of work of a test, by node id (relative to the project root): a system unit or its module."""
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) == 3 and parts[0] == "tests" and parts[1] in SYSTEM_FOLDERS:
        return OWN_UNIT if parts[2] in OWN_SYSTEM_MODULES else SHARED_UNIT
    return nodeid.rsplit("::", 1)[0]


class SystemUnitsFirst(LoadScopeScheduling):
    """Load-scope scheduling by `unit_of`, the units in collection order (the system folders sort first)."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        # Not by size: the two system units are the longest work, but a module of many tiny parametrized tests
        # would outnumber them. tests/acceptance and tests/browser are collected before the other folders.
        self.config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
