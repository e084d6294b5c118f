"""Failed sign-ins are counted across API processes: failures on one lock the account on the other."""

from __future__ import annotations

import httpx
import pytest

from tests.acceptance.harness import ConveyorSystem, free_port, wait_until

pytestmark = pytest.mark.acceptance
PASSWORD = "throttle test passphrase"


def test_failed_logins_on_two_api_processes_add_up(system: ConveyorSystem) -> None:
    created = system.http.post("/api/v1/users", json={"username": "throttled", "password": PASSWORD})
    assert created.status_code == 201, created.text
    port = free_port()
    second = system._process("api-2", ["api", "--port", str(port)])
    second.start()
    system.processes.append(second)
    other = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{other}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=60, what="the second API process")
    bad = {"username": "throttled", "password": "not the password"}
    for i in range(5):  # the default limit: 5 failures per account, spread over both processes
        base = system.base_url if i % 2 == 0 else other
        assert httpx.post(f"{base}/api/v1/auth/login", json=bad).status_code == 401
    for base in (system.base_url, other):
        locked = httpx.post(f"{base}/api/v1/auth/login", json={"username": "throttled", "password": PASSWORD})
        assert locked.status_code == 429, locked.text
        assert locked.headers["content-type"].startswith("application/problem+json")
        assert locked.json()["code"] == "login_locked"
        assert int(locked.headers["retry-after"]) >= 1
    second.stop()
    system.processes.remove(second)
