"""The units of work `make test` gives pytest-xdist (tests/xdist_systems.py)."""

from __future__ import annotations

from pathlib import Path

from tests.xdist_systems import OWN_SYSTEM_MODULES, OWN_UNIT, SHARED_UNIT, unit_of

ACCEPTANCE = Path(__file__).resolve().parents[1] / "acceptance"


def test_every_module_named_as_starting_its_own_systems_exists() -> None:
    # A renamed module would silently join the shared unit and unbalance the two workers.
    assert {name for name in OWN_SYSTEM_MODULES if not (ACCEPTANCE / name).is_file()} == set()


def test_every_module_that_starts_a_system_of_its_own_is_named_so() -> None:
    # One left in the shared unit lengthens the unit that already holds the browser test, and runs its systems
    # beside the idle shared one.
    starting = {
        path.name
        for path in ACCEPTANCE.glob("test_*.py")
        if any(word in path.read_text() for word in ("make_system", "ConveyorSystem(", "conveyor up"))
    }
    assert starting - OWN_SYSTEM_MODULES == set()


def test_system_tests_form_two_units_and_the_rest_go_by_module() -> None:
    assert unit_of("tests/acceptance/test_scheduler.py::test_three_schedulers[a/b]") == OWN_UNIT
    assert unit_of("tests/acceptance/test_cancel.py::test_cancel_a_running_run") == SHARED_UNIT
    assert unit_of("tests/browser/test_console.py::test_the_console_in_chromium") == SHARED_UNIT
    assert unit_of("tests/integration/test_runs_api.py::test_submit[batch]") == "tests/integration/test_runs_api.py"
    assert unit_of("tests/unit/test_states.py::test_every_pair[PENDING-QUEUED]") == "tests/unit/test_states.py"
