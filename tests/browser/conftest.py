"""Browser tests run against the same real processes as the acceptance tests (tests/acceptance/shared.py)."""

from tests.acceptance.conftest import pytest_runtest_makereport  # noqa: F401
