"""X-Forwarded-For is believed only from CONVEYOR_TRUSTED_PROXIES, under the real uvicorn `conveyor api` runs."""

from __future__ import annotations

import sys
import uuid

import httpx
import pytest

from tests.acceptance.harness import ConveyorSystem, free_port, wait_until
from tests.acceptance.processes import Process

pytestmark = pytest.mark.acceptance
LIMIT = 4


def start_api(system: ConveyorSystem, name: str, **env: str) -> tuple[Process, str]:
    """One more API process on the shared system, its login counters in a Redis namespace of its own."""
    port = free_port()
    process = Process(
        name=name,
        argv=[sys.executable, "-m", "app", "api", "--port", str(port)],
        log_path=system.root / "logs" / f"{name}.log",
        env={
            **system.env(),
            "CONVEYOR_REDIS_NAMESPACE": f"fwd-{uuid.uuid4().hex[:8]}",
            "CONVEYOR_LOGIN_MAX_FAILURES_PER_CLIENT": str(LIMIT),
            **env,
        },
    )
    process.start()
    system.processes.append(process)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=60, what=f"the API process {name}")
    return process, base


def stop_api(system: ConveyorSystem, process: Process) -> None:
    process.stop()
    system.processes.remove(process)


def fail_logins(base: str, tag: str, count: int) -> list[int]:
    """`count` failed sign-ins, each for another account and from another claimed address."""
    return [
        httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": f"{tag}{i}", "password": "wrong password"},
            headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
        ).status_code
        for i in range(count)
    ]


def addresses_in_audit(system: ConveyorSystem, tag: str) -> set[str | None]:
    entries = system.http.get("/api/v1/audit", params={"action": "auth.login", "limit": 1000}).json()["items"]
    return {e["client_address"] for e in entries if str(e.get("details", {}).get("username", "")).startswith(tag)}


def test_forwarded_for_from_an_untrusted_peer_changes_nothing(system: ConveyorSystem) -> None:
    process, base = start_api(system, "api-untrusted")
    try:
        tag = f"u{uuid.uuid4().hex[:6]}-"
        statuses = fail_logins(base, tag, LIMIT + 3)
        assert statuses[:LIMIT] == [401] * LIMIT
        assert statuses[LIMIT:] == [429] * 3  # the lockout holds whatever address the header claims
        assert addresses_in_audit(system, tag) == {"127.0.0.1"}
    finally:
        stop_api(system, process)


def test_forwarded_for_from_a_trusted_proxy_names_the_client(system: ConveyorSystem) -> None:
    process, base = start_api(system, "api-trusted", CONVEYOR_TRUSTED_PROXIES="127.0.0.1")
    try:
        tag = f"t{uuid.uuid4().hex[:6]}-"
        assert fail_logins(base, tag, LIMIT + 3) == [401] * (LIMIT + 3)  # one failure per client address
        assert addresses_in_audit(system, tag) == {f"203.0.113.{i + 1}" for i in range(LIMIT + 3)}
    finally:
        stop_api(system, process)
