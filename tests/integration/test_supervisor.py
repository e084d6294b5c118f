"""`conveyor up` gives up, saying why, on a process that cannot start, instead of restarting it forever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.supervisor import Child, Supervisor


def _child(name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code], env=dict(os.environ))


def test_a_process_failing_at_every_start_makes_the_supervisor_give_up_and_stop_the_others() -> None:
    broken = _child("api", "import sys; sys.exit(3)")
    healthy = _child("worker-1", "import time; time.sleep(600)")
    supervisor = Supervisor([broken, healthy], max_fast_failures=2)

    assert supervisor.run() == 1
    assert supervisor.gave_up is not None
    assert "api exited 2 times in a row" in supervisor.gave_up
    assert "last exit code 3" in supervisor.gave_up
    assert broken.restarts == 1
    assert healthy.process is not None
    assert healthy.process.poll() is not None, "the healthy process was left running"


def test_a_process_that_once_got_going_is_restarted_however_often_it_fails_after(tmp_path: Path) -> None:
    """A worker that ran for a while, then loses (say) Redis, must not bring the whole system down."""
    ran = tmp_path / "ran"
    code = (
        f"import pathlib, sys, time\nran = pathlib.Path({str(ran)!r})\n"
        "if not ran.exists():\n    ran.touch()\n    time.sleep(1.5)\nsys.exit(4)"
    )
    child = Child("worker-1", [sys.executable, "-c", code], env=dict(os.environ), delay=0.05)
    supervisor = Supervisor([child], max_fast_failures=2, fast_failure_seconds=1.0)

    def stop_after_restarts() -> None:
        deadline = time.monotonic() + 60
        while child.restarts < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        supervisor.stopping.set()

    threading.Thread(target=stop_after_restarts, daemon=True).start()
    assert supervisor.run() == 0
    assert supervisor.gave_up is None
    assert child.restarts >= 4


def test_the_ready_line_comes_once_when_the_system_answers() -> None:
    said: list[str] = []
    answers = iter([False, False, True])

    def on_ready() -> None:
        said.append("ready")
        supervisor.stopping.set()  # what Ctrl-C does

    supervisor = Supervisor(
        [_child("api", "import time; time.sleep(600)")], ready=lambda: next(answers), on_ready=on_ready
    )
    assert supervisor.run() == 0
    assert said == ["ready"]


def test_up_refuses_a_busy_port_at_once_saying_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}
        env.update(CONVEYOR_API_PORT=str(port), CONVEYOR_DATA_ROOT=str(tmp_path))
        up = subprocess.run(
            [sys.executable, "-m", "app", "up"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert up.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in up.stderr
    assert "CONVEYOR_API_PORT" in up.stderr
