"""Failed sign-ins lock the guesser's address out of the account, not the account's owner elsewhere."""

from __future__ import annotations

import msgspec
import pytest
import redis

from app.core.errors import TooManyRequests
from app.domain.throttle import LoginThrottle
from app.settings import Settings


@pytest.fixture
def throttle(settings: Settings, redis_client: redis.Redis) -> LoginThrottle:
    return LoginThrottle(redis_client, msgspec.structs.replace(settings, login_max_failures_per_account=12))


def test_failures_from_one_address_lock_that_address_out_of_the_account_only(throttle: LoginThrottle) -> None:
    for _ in range(throttle.settings.login_max_failures):
        throttle.failed("admin", "203.0.113.9")

    with pytest.raises(TooManyRequests) as locked:
        throttle.check("admin", "203.0.113.9")
    assert locked.value.code == "login_locked"
    throttle.check("admin", "198.51.100.7")  # the owner, elsewhere, still signs in
    throttle.check("someone-else", "203.0.113.9")  # and the guesser's address is not locked for other accounts


def test_failures_from_many_addresses_lock_the_account_for_everyone(throttle: LoginThrottle) -> None:
    for n in range(throttle.settings.login_max_failures_per_account):
        throttle.failed("admin", f"203.0.113.{n % 4}")  # three from each of four addresses: no pair locked

    with pytest.raises(TooManyRequests):
        throttle.check("admin", "198.51.100.7")
    throttle.check("someone-else", "198.51.100.7")


def test_a_success_forgets_the_accounts_failures(throttle: LoginThrottle) -> None:
    for _ in range(throttle.settings.login_max_failures - 1):
        throttle.failed("admin", "198.51.100.7")
    throttle.succeeded("admin", "198.51.100.7")

    for _ in range(throttle.settings.login_max_failures - 1):
        throttle.failed("admin", "198.51.100.7")
    throttle.check("admin", "198.51.100.7")
