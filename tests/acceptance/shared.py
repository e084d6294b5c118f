"""The shared Conveyor system of a test session, and its early stop.

Defined once (tests/conftest.py imports these fixtures) so the acceptance and the browser tests use the
same started processes: two definitions would make pytest start two systems. The system is stopped right
after the last test that uses it in its unit of work (tests/xdist_systems.py: under `make test` a unit runs
whole on one xdist worker), not at the end of the session: its scheduler, reaper and workers keep polling,
which the tests that run after it would pay for on a 2-core machine. A later test that needs it again (a
worker may run two units, or plain `pytest` runs them interleaved) starts a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.harness import ConveyorSystem
from tests.servers import TestServers
from tests.xdist_systems import unit_of

FIXTURE = "shared_system"
#: The running shared system, if any (for `stop_after_last_user`).
RUNNING: list[ConveyorSystem] = []
_LAST_USERS = pytest.StashKey[frozenset[str]]()


class SharedSystems:
    """Gives the running shared system, starting one (api + scheduler + two workers) when none runs."""

    def __init__(self, servers: TestServers, root: Path) -> None:
        self._servers = servers
        self._root = root
        self._started = 0

    def get(self) -> ConveyorSystem:
        if not RUNNING:
            self._started += 1
            # Webhooks may target loopback: the browser test's receiver listens on 127.0.0.1 (metadata stays refused).
            system = ConveyorSystem(
                servers=self._servers,
                root=self._root / f"shared-{self._started}",
                extra_env={"CONVEYOR_WEBHOOK_ALLOW_PRIVATE": "true"},
            )
            RUNNING.append(system)
            system.start(workers=2)
        return RUNNING[0]


@pytest.fixture(scope="session")
def shared_system(servers: TestServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedSystems]:
    """The session's provider of the shared system; whatever still runs at the end is stopped."""
    try:
        yield SharedSystems(servers, tmp_path_factory.mktemp("shared"))
    finally:
        stop_shared()


@pytest.fixture
def system(shared_system: SharedSystems) -> Iterator[ConveyorSystem]:
    """The shared system, for tests that leave it as they found it; whatever a test leaves unfinished is cancelled."""
    running = shared_system.get()
    yield running
    running.settle()
    running.assert_healthy()


def stop_shared() -> None:
    while RUNNING:
        RUNNING.pop().stop()


def remember_last_user(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note, per unit of work, the last collected test that uses the shared system (from pytest_collection_modifyitems).

    Under xdist a unit runs whole and in order on one worker, so after its last user nothing on that worker needs
    the system until the next unit (which starts it again if it does). Run plainly, units interleave, so only the
    session's last user stops it.
    """
    users = [item for item in items if FIXTURE in getattr(item, "fixturenames", ())]
    if not users:
        return
    if hasattr(config, "workerinput"):  # an xdist worker
        last = {unit_of(item.nodeid): item.nodeid for item in users}
        config.stash[_LAST_USERS] = frozenset(last.values())
    else:
        config.stash[_LAST_USERS] = frozenset({users[-1].nodeid})


def stop_after_last_user(item: pytest.Item) -> None:
    """After such a test's teardown: stop the shared system (the session fixture's finalizer then finds it gone)."""
    if item.nodeid in item.config.stash.get(_LAST_USERS, frozenset()):
        stop_shared()
