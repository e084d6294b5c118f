"""The API while Redis is away, refused (`down`) or silent (`stall`, its host gone): probes and live logs answer in
seconds, sign-in is a 503 with a code, and each component says the outage once, not at every request."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from app.api.app import create_app
from app.core.states import RunStatus
from app.settings import Settings
from tests.cutting_proxy import CuttingProxy
from tests.integration.conftest import ADMIN_PASSWORD, make_user, sign_in
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count
from tests.integration.redis_outage_support import loud, said, wait_for

T = TypeVar("T")

#: Longest any answer may take while Redis is away: a few of the API's Redis timeouts, not TCP's minutes.
ANSWER_WITHIN_SECONDS = 15.0
#: Longest 20 requests may take together while Redis is away: a few probes' waits, not one wait per request.
STALLED_REQUESTS_WITHIN_SECONDS = 5.0
#: Longest a probe or a sign-in may take while Redis is away: within reach of Kubernetes' 1 s probe timeout (one
#: short wait for Redis), where redis-py's default 5 s socket timeout and its retries took 5 s and more.
PROBE_ANSWER_WITHIN_SECONDS = 2.0


@pytest.fixture
def api(fast_settings: Settings, parts: Engine_, redis_proxy: CuttingProxy) -> Iterator[TestClient]:
    """The API on the proxied Redis, signed in as an admin before Redis goes away."""
    settings = msgspec.structs.replace(fast_settings, redis_url=redis_proxy.url)
    make_user(parts.engine, settings, "ops", superuser=True)
    with TestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {sign_in(client, 'ops')['access_token']}"
        yield client


def in_time(call: Callable[[], T]) -> T:
    """`call()`, failing the test if it has not answered within ANSWER_WITHIN_SECONDS (a hang, not a slow answer)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(call).result(timeout=ANSWER_WITHIN_SECONDS)
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize("outage", ["down", "stall"])
def test_readiness_is_a_503_naming_redis_while_it_is_away(
    api: TestClient, redis_proxy: CuttingProxy, outage: str
) -> None:
    getattr(redis_proxy, outage)()
    response, took = timed(lambda: api.get("/readyz"))
    assert took < PROBE_ANSWER_WITHIN_SECONDS  # a bound that catches a hang on a silent Redis, not a speed target
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "not_ready"
    assert "redis: unreachable" in response.json()["detail"]
    redis_proxy.up()
    assert in_time(lambda: api.get("/readyz")).status_code == 200


@pytest.mark.parametrize("outage", ["down", "stall"])
def test_sign_in_is_a_503_login_unavailable_while_failures_cannot_be_counted(
    api: TestClient, parts: Engine_, redis_proxy: CuttingProxy, outage: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    failures = _audited_failures(parts)  # the audit log keeps earlier tests' rows (it refuses deletes)
    # Given Redis away
    getattr(redis_proxy, outage)()
    # When a wrong and a right password are tried
    wrong, took_wrong = timed(lambda: api.post("/api/v1/auth/login", json={"username": "ops", "password": "guess"}))
    right, took_right = timed(
        lambda: api.post("/api/v1/auth/login", json={"username": "ops", "password": ADMIN_PASSWORD})
    )
    assert max(took_wrong, took_right) < PROBE_ANSWER_WITHIN_SECONDS
    # Then both wait, with a code and a time to come back, and the outage is said once; then sign-in works again
    for response in (wrong, right):
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "login_unavailable"
        assert response.headers["retry-after"] == "5"
    redis_proxy.up()
    assert api.post("/api/v1/auth/login", json={"username": "ops", "password": "guess"}).status_code == 401
    # and only the password tried after is audited as a failure: during the outage none was checked
    assert _audited_failures(parts) == failures + 1
    assert [level for level, _ in said(caplog, "app.domain.throttle")] == ["WARNING", "INFO"]
    assert loud(caplog) == []


@pytest.mark.parametrize("outage", ["down", "stall"])
def test_requests_pass_the_rate_limit_while_redis_is_away_and_it_says_so_once(
    api: TestClient, redis_proxy: CuttingProxy, outage: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    getattr(redis_proxy, outage)()
    started = time.monotonic()
    for _ in range(20):
        assert api.get("/api/v1/runs").status_code == 200
    # a bound that catches a wait for Redis at each request (20 s and more before), not a speed target
    assert time.monotonic() - started < STALLED_REQUESTS_WITHIN_SECONDS
    redis_proxy.up()
    # the rate limit tries Redis again at its next probe: until then requests are not counted either
    wait_for(lambda: api.get("/api/v1/runs").status_code == 200 and len(said(caplog, "app.api.rate_limit")) > 1)
    lines = said(caplog, "app.api.rate_limit")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    back = re.fullmatch(r"Reconnected to Redis after .* \(requests not counted meanwhile: (\d+)\); .*", lines[1][1])
    assert back, lines
    assert int(back[1]) >= 20, lines


@pytest.mark.parametrize("outage", ["down", "stall"])
def test_a_live_log_followed_while_redis_is_away_gets_every_line_and_its_end(
    api: TestClient, parts: Engine_, redis_proxy: CuttingProxy, outage: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a run that logged five lines and ended
    caplog.set_level(logging.INFO)
    parts.pipeline("chatty", [{"type": "log", "message": f"line {i}"} for i in range(5)])
    [run_id] = parts.submit("chatty")
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    # When three clients follow its log while Redis is away
    getattr(redis_proxy, outage)()
    streams = [in_time(lambda: api.get(f"/api/v1/runs/{run_id}/logs/stream")) for _ in range(3)]
    redis_proxy.up()
    # Then each gets the lines from the database and the end event, and the API said once that Redis was away
    for stream in streams:
        assert stream.status_code == 200
        assert _events(stream) == ["log"] * len([x for x in _events(stream) if x == "log"]) + ["end"]
        assert '"status": "SUCCEEDED"' in stream.text
    assert len(_events(streams[0])) > 5
    assert [level for level, _ in said(caplog, "app.api.live_logs")] == ["WARNING"]
    assert loud(caplog) == []


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """`in_time(call)` and how long it took (wall clock)."""
    started = time.monotonic()
    result = in_time(call)
    return result, time.monotonic() - started


def _audited_failures(parts: Engine_) -> int:
    return count(parts.engine, "audit_log", "action = 'auth.login' AND outcome = 'failure'")


def _events(response: httpx.Response) -> list[str]:
    return [line.removeprefix("event: ") for line in response.text.splitlines() if line.startswith("event: ")]
