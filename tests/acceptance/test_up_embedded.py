"""`conveyor up` with no URLs: embedded servers, a run end to end, a crash restarted, a clean Ctrl-C, data kept."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.acceptance.harness import CHEAP_HASHING

pytestmark = pytest.mark.acceptance

#: Generous: on a loaded machine, starting every process (and the embedded servers) takes long.
START_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate, timeout: float, what: str, log: Path | None = None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}" + (f"; `conveyor up` said:\n{tail}" if tail else ""))


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _start(root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CONVEYOR_ADMIN_PASSWORD")}
    env.update(CONVEYOR_DATA_ROOT=str(root), CONVEYOR_API_PORT=str(port), CONVEYOR_WORKER_THREADS="2", **CHEAP_HASHING)
    return subprocess.Popen(
        [sys.executable, "-m", "app", "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A `conveyor` command as a user types it beside `conveyor up`: no DATABASE_URL, the same data root."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CONVEYOR_ADMIN_PASSWORD")}
    env.update(CONVEYOR_DATA_ROOT=str(root), **CHEAP_HASHING)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _signed_in(base: str, password: str) -> httpx.Client:
    token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "admin", "password": password}).json()
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token['access_token']}"})


def _postgres_running(root: Path) -> bool:
    return any(
        str(root / "postgres") in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres"
    )


def _stop(up: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """Ctrl-C the supervisor; returns the processes it had started, for checking they are gone."""
    family = psutil.Process(up.pid).children(recursive=True)
    up.send_signal(signal.SIGINT)
    up.wait(timeout=60)
    return family


@pytest.fixture
def data_root() -> Iterator[Path]:
    """A data root outside pytest's folder: pytest resets that folder to owner-only at each session start,
    which locks out the `pgserver` user the embedded PostgreSQL runs as (when tests run as root)."""
    root = Path(tempfile.mkdtemp(prefix="conveyor-up-test-"))
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def test_up_runs_everything_restarts_the_dead_and_stops_cleanly(tmp_path: Path, data_root: Path) -> None:
    root, port, log = data_root, _free_port(), tmp_path / "up.log"
    base = f"http://127.0.0.1:{port}"
    up = _start(root, port, log)
    try:
        _wait(lambda: _ready(base), START_TIMEOUT, "the API to be ready", log)
        text = log.read_text()
        assert f"Docs: {base}/api/docs" in text
        password = re.search(r"Its password, shown only this once: (\S+)", text)
        assert password, "the bootstrap admin's password was not printed"
        api = _signed_in(base, password.group(1))
        created = api.post(
            "/api/v1/pipelines", json={"name": "hi", "spec": {"steps": [{"type": "log", "message": "hi"}]}}
        )
        assert created.status_code == 201, created.text
        run = api.post("/api/v1/runs", json={"pipeline": "hi"}).json()
        _wait(lambda: api.get(f"/api/v1/runs/{run['id']}").json()["status"] == "SUCCEEDED", 30, "the run")

        workers = [p for p in psutil.Process(up.pid).children() if "worker" in p.cmdline()]
        assert len(workers) == 2
        workers[0].kill()
        _wait(lambda: "restarted worker-" in log.read_text(), 30, "the supervisor to restart the worker")
        _wait(
            lambda: len([p for p in psutil.Process(up.pid).children() if "worker" in p.cmdline()]) == 2,
            30,
            "two workers again",
        )
    finally:
        family = _stop(up)
    assert up.returncode == 0, log.read_text()[-3000:]
    _wait(
        lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family),
        10,
        "no orphan processes",
    )
    assert not _postgres_running(root), "the embedded PostgreSQL is still running"

    up = _start(root, port, log)  # a second start finds the data where it was
    try:
        _wait(lambda: _ready(base), START_TIMEOUT, "the API to be ready again", log)
        assert "shown only this once" not in log.read_text().split("Conveyor is starting")[-2]
        again = _signed_in(base, password.group(1)).get(f"/api/v1/runs/{run['id']}").json()
        assert again["status"] == "SUCCEEDED"
        assert "Conveyor is ready" in log.read_text()

        # A lost admin password: the command line finds the database `conveyor up` runs.
        reset = _cli(root, "users", "reset-password", "--username", "admin")
        assert reset.returncode == 0, reset.stderr
        temporary = re.search(r"temporary password .*: (\S+)", reset.stdout)
        assert temporary, reset.stdout
        login = f"{base}/api/v1/auth/login"
        assert httpx.post(login, json={"username": "admin", "password": password.group(1)}).status_code == 401
        assert httpx.post(login, json={"username": "admin", "password": temporary.group(1)}).status_code == 200
    finally:
        _stop(up)
    assert not _postgres_running(root)

    # With `conveyor up` stopped, a user command starts the embedded database for itself, and stops it after.
    created = _cli(root, "users", "create", "--username", "bob", "--password", "a quiet harbour at dusk")
    assert created.returncode == 0, created.stderr
    assert "created account 'bob'" in created.stdout
    assert not _postgres_running(root)


def test_a_user_command_with_no_database_anywhere_says_how_to_get_one(tmp_path: Path) -> None:
    done = _cli(tmp_path / "empty", "users", "reset-password", "--username", "admin")
    assert done.returncode != 0
    assert "DATABASE_URL is not set and there is no embedded database" in done.stderr
    assert "conveyor up" in done.stderr
