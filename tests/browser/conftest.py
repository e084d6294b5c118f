"""Browser tests run against the same real processes as the acceptance tests."""

from tests.acceptance.conftest import pytest_runtest_makereport, shared_system, system  # noqa: F401
