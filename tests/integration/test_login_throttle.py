"""Failed sign-ins lock the guesser's address out of the account, not the account's owner elsewhere; without Redis a
sign-in is refused with 503, never 500."""

from __future__ import annotations

import msgspec
import pytest
import redis
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.api.app import create_app
from app.core.errors import TooManyRequests
from app.domain.throttle import RETRY_AFTER_SECONDS, LoginThrottle, throttle_client
from app.settings import Settings
from tests.acceptance.processes import free_port
from tests.cutting_proxy import CuttingProxy
from tests.integration.conftest import ADMIN_PASSWORD, make_user


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


def test_the_first_sign_in_after_redis_dropped_its_connections_is_counted_not_refused(settings: Settings) -> None:
    """An outside tester cut the API's Redis connections (a failover); Redis was back, but the first sign-in met the
    pooled connection Redis had closed and answered 500."""
    proxy = CuttingProxy.redis(settings.redis_url)
    try:
        throttle = LoginThrottle(throttle_client(proxy.url), settings)
        throttle.check("admin", "198.51.100.7")  # a pooled connection now
        assert proxy.cut() >= 1

        throttle.check("admin", "198.51.100.7")
        throttle.failed("admin", "198.51.100.7")
    finally:
        proxy.close()


def test_a_sign_in_while_redis_is_down_is_503_login_unavailable(engine: Engine, fast_settings: Settings) -> None:
    make_user(engine, fast_settings, "ada")
    without_redis = msgspec.structs.replace(fast_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")

    with TestClient(create_app(without_redis)) as api:
        answer = api.post("/api/v1/auth/login", json={"username": "ada", "password": ADMIN_PASSWORD})

    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert (answer.json()["code"], answer.headers["retry-after"]) == ("login_unavailable", str(RETRY_AFTER_SECONDS))
