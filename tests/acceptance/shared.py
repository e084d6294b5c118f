"""The one shared Conveyor system of a test session, and its early stop.

Defined once (tests/conftest.py imports these fixtures) so the acceptance and the browser tests use the
same started processes: two definitions would make pytest start two systems. The system is stopped right
after the last test that uses it, not at the end of the session: its scheduler, reaper and workers keep
polling, which the client, integration and unit tests that run after it would pay for on a 2-core machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.acceptance.harness import ConveyorSystem
from tests.servers import TestServers

FIXTURE = "shared_system"
#: The running shared system, if any (for `stop_after_last_user`).
RUNNING: list[ConveyorSystem] = []
_LAST_USER = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def shared_system(servers: TestServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConveyorSystem]:
    """api + scheduler + two workers, shared by the tests that leave the system as they found it."""
    # Webhooks may target loopback: the browser test's receiver listens on 127.0.0.1 (metadata stays refused).
    system = ConveyorSystem(
        servers=servers,
        root=tmp_path_factory.mktemp("shared"),
        extra_env={"CONVEYOR_WEBHOOK_ALLOW_PRIVATE": "true"},
    )
    RUNNING.append(system)
    try:
        system.start(workers=2)
        yield system
    finally:
        stop_shared()


@pytest.fixture
def system(shared_system: ConveyorSystem) -> Iterator[ConveyorSystem]:
    """The shared system; whatever a test leaves unfinished is cancelled after it."""
    yield shared_system
    shared_system.settle()
    shared_system.assert_healthy()


def stop_shared() -> None:
    while RUNNING:
        RUNNING.pop().stop()


def remember_last_user(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note the last collected test that uses the shared system (call from pytest_collection_modifyitems)."""
    users = [item for item in items if FIXTURE in getattr(item, "fixturenames", ())]
    if users:
        config.stash[_LAST_USER] = users[-1].nodeid


def stop_after_last_user(item: pytest.Item) -> None:
    """After that test's teardown: stop the shared system (the session fixture's finalizer then finds it gone)."""
    if item.config.stash.get(_LAST_USER, None) == item.nodeid:
        stop_shared()
