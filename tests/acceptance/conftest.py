"""Acceptance fixtures: the whole system as real processes; their output is shown when a test fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.acceptance.harness import ACTIVE, ConveyorSystem
from tests.servers import TestServers


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and ACTIVE:
        for system in ACTIVE:
            report.sections.append((f"conveyor processes in {system.root}", system.report()))


@pytest.fixture
def make_system(servers: TestServers, tmp_path: Path) -> Iterator[Callable[..., ConveyorSystem]]:
    """A factory of systems of the test's own (for tests that kill processes or break Redis)."""
    made: list[ConveyorSystem] = []

    def make(*, workers: int = 2) -> ConveyorSystem:
        system = ConveyorSystem(servers=servers, root=tmp_path / f"system-{len(made) + 1}")
        made.append(system)
        return system.start(workers=workers)

    yield make
    for system in made:
        system.stop()
