"""The console in a real browser: Playwright drives Debian's Chromium against the real stack.

The Playwright tests live in app/console/tests/e2e; this test gives them a running Conveyor
(api, scheduler, workers on real Postgres and Redis) serving the built console, a known load,
and a folder for screenshots (.conveyor/test-artifacts/console, zh-CN and en).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.acceptance.harness import ADMIN, ConveyorSystem, wait_until
from tests.browser import dataset_fixtures
from tests.console import CONSOLE, NODE_BIN, require_node_tools
from tests.webhook_receiver import Receiver

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".conveyor" / "test-artifacts" / "console"
#: Runs of the known load the dashboard must count.
KNOWN_RUNS = 3
#: Playwright workers (CONSOLE_E2E_WORKERS; 2 unless set, as app/console/playwright.config.ts): each runs spec files
#: of its own, as its own admin.
WORKERS = int(os.environ.get("CONSOLE_E2E_WORKERS", "2"))


def start_admin(system: ConveyorSystem, username: str) -> subprocess.Popen[str]:
    """Start making another instance admin with the stack admin's password, as the operator makes one (`conveyor
    users`); `made` waits for it. It starts first and runs while the known load finishes, not after it."""
    argv = [sys.executable, "-m", "app", "users", "create", "--username", username, "--superuser"]
    return subprocess.Popen(
        [*argv, f"--password={system.admin_password}"],
        env=system.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def made(admin: subprocess.Popen[str]) -> None:
    _, errors = admin.communicate(timeout=120)
    assert admin.returncode == 0, errors[-2000:]


@pytest.mark.timeout(900)  # eleven browser tests, each signing in (argon2) on a shared 2-core machine
def test_the_console_in_chromium(system: ConveyorSystem) -> None:
    require_node_tools()
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `make test` installs it (apt-get install chromium)")
    assert (CONSOLE / "dist" / "index.html").is_file(), "build the console first: make console"
    # each further Playwright worker signs in as its own admin (e2e/helpers.ts)
    admins = [start_admin(system, f"{ADMIN}-w{index}") for index in range(1, WORKERS)]
    pipeline = system.create_pipeline([{"type": "log", "message": "known load"}])
    runs = [system.submit(pipeline["name"])["id"] for _ in range(KNOWN_RUNS)]
    failing = system.create_pipeline([{"type": "fail", "message": "known failure"}])
    failed = system.submit(failing["name"])["id"]  # for the recent failures and the failing TopN charts
    finished = system.wait_runs([*runs, failed])
    assert [finished[r]["status"] for r in runs] == ["SUCCEEDED"] * KNOWN_RUNS
    assert finished[failed]["status"] == "FAILED"

    def counted() -> bool:  # the dashboard's figures include the known load
        summary = system.http.get("/api/v1/metrics/summary").json()
        return (summary["metrics"].get("runs") or 0) >= KNOWN_RUNS + 1

    wait_until(counted, timeout=30, what="the metrics to count the known load")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    (ARTIFACTS / "screenshots").mkdir(parents=True)
    env = {
        **os.environ,
        "CONSOLE_URL": system.base_url,
        "ADMIN_USER": ADMIN,
        "ADMIN_PASSWORD": system.admin_password,
        "EXPECT_RUNS_AT_LEAST": str(KNOWN_RUNS),
        "FAILED_RUN": failed,
        "ARTIFACTS": str(ARTIFACTS),
        "CHROMIUM": str(CHROMIUM),
        "DATASET_FIXTURES": str(dataset_fixtures.write(ARTIFACTS / "fixtures")),  # datasets.spec.ts
    }
    receiver = Receiver()  # webhooks.spec.ts subscribes it and sees its 200s in the delivery log
    env["WEBHOOK_RECEIVER"] = receiver.url
    env["CONSOLE_E2E_WORKERS"] = str(WORKERS)
    for admin in admins:
        made(admin)
    report = ARTIFACTS / "playwright.log"
    with closing(receiver), report.open("w") as out:
        code = subprocess.run(
            # CONSOLE_E2E_ONLY="roles axe" runs only the spec files whose names contain those words
            [str(NODE_BIN / "playwright"), "test", *os.environ.get("CONSOLE_E2E_ONLY", "").split()],
            cwd=CONSOLE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=840,
        ).returncode
    assert code == 0, f"Playwright failed (screenshots in {ARTIFACTS}):\n{report.read_text()[-8000:]}"
