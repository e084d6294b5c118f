"""Processes of an acceptance test: start them with their output in a file, wait, stop them for sure."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from app.process import die_with_parent

#: The repository root: the processes run from here, as `python -m app ...`.
REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 15.0
LOG_TAIL_LINES = 40
#: Words that mark a line of a process's output as an error worth showing first.
ERROR_MARKS = (" ERROR ", "ERROR -", " CRITICAL ", "Traceback (most recent call last)")

T = TypeVar("T")


def wait_until(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` (and the last value) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last value: {value!r})")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """Pids of the live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'.
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def worker_pid(actor: str) -> int:
    """The process id in a worker's identity `worker:<host>:<pid>`."""
    kind, _, rest = actor.partition(":")
    assert kind == "worker", f"not a worker identity: {actor!r}"
    return int(rest.rsplit(":", 1)[1])


@dataclass
class Process:
    """One `python -m app ...` process, in its own session, its output in `log_path`."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def terminate(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)

    def wait_stopped(self, deadline: float) -> None:
        """Wait until `deadline` (monotonic) for the process to exit, then SIGKILL whatever is left of its group."""
        if self.popen is None:
            return
        try:
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with open(self.log_path, "a") as log:
                log.write(f"\n[harness] {self.name} still running after SIGTERM: SIGKILL\n")
        # The session leader's pid is the group id: kill what is left of the group (e.g. Dramatiq children).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL to the whole process group after `timeout`."""
        stop_all([self], timeout)


def stop_all(processes: list[Process], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM them all at once, then wait for each (SIGKILL after `timeout`)."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.wait_stopped(deadline)
