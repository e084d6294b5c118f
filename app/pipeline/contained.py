"""Run a pipeline that opens DuckDB in a child process the caller can always end.

Some of DuckDB's work is neither interrupted nor counted against the connection's memory limit (a step's
`SELECT length(repeat(repeat('x', 10^9), 3))`, `summary(...)`): run in the worker's own process, a user's SQL could
take the host's memory. So `run_contained` runs `run_pipeline` in a child (`app.pipeline.watched`) and watches it:

- the child's `log` and `on_step` calls come back over a pipe and are made here;
- when `should_stop()` says so here (cancel, timeout, lost lease), the child is told, which interrupts its query
  or ends its `sleep` at once; a child still running `STOP_GRACE_SECONDS` later is killed, and the run ends as the
  stop says (PipelineCancelled);
- a child whose resident memory grows past `MEMORY_FACTOR` x its connection's memory limit is killed:
  MemoryLimitExceeded;
- a child that dies otherwise (a crash, the kernel's OOM killer) is PipelineProcessDied (another attempt may work);
- what `run_pipeline` raised in the child is raised here, the same type with the same attributes; its result
  (the output file, written by the child in `out_dir`) is returned.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any

from app.ingest.config import DuckDBSettings
from app.pipeline.engine import run_pipeline
from app.pipeline.errors import MemoryLimitExceeded, PipelineCancelled, PipelineProcessDied
from app.pipeline.models import InputFile, PipelineResult, RunInfo
from app.pipeline.spec import PipelineSpec
from app.pipeline.watched import CONTEXT, MEMORY_FACTOR, POLL_SECONDS, MemoryWatch, memory_budget, preload

#: How long a child told to stop may take to end before it is killed (DuckDB work that sees no interrupt).
STOP_GRACE_SECONDS = 2.0

preload(__name__)


def run_contained(
    spec: PipelineSpec,
    *,
    inputs: Mapping[str, InputFile],
    params: Mapping[str, Any],
    run: RunInfo,
    out_dir: str | None,
    duckdb_settings: DuckDBSettings,
    memory_limit_mb: int,
    log: Callable[[str, str], None],
    should_stop: Callable[[], bool],
    on_step: Callable[[int, int], None],
) -> PipelineResult:
    """`run_pipeline` in a watched child; `memory_limit_mb` is the connection's limit the budget is a multiple of
    (CONVEYOR_JOB_MEMORY_LIMIT_MB)."""
    here, there = CONTEXT.Pipe()
    job = {"spec": spec, "inputs": dict(inputs), "params": dict(params), "run": run, "out_dir": out_dir}
    job["duckdb_settings"] = duckdb_settings
    child = CONTEXT.Process(target=_child, args=(there, job), daemon=True, name="conveyor-pipeline-run")
    child.start()
    there.close()
    try:
        outcome = _Supervisor(child, here, memory_budget(memory_limit_mb), log, should_stop, on_step).wait()
    finally:  # in every path, an exception raised into this thread too: no child outlives its run, none is a zombie
        if child.is_alive():
            child.kill()
        child.join()
        here.close()
    return _result(outcome, child.exitcode, memory_limit_mb)


def _result(outcome: tuple[Any, ...], exitcode: int | None, memory_limit_mb: int) -> PipelineResult:
    kind = outcome[0]
    if kind == "result":
        assert isinstance(outcome[1], PipelineResult)
        return outcome[1]
    if kind == "error":
        raise _rebuilt(*outcome[1:])
    if kind == "stopped":
        raise PipelineCancelled("pipeline cancelled")
    if kind == "memory":
        raise MemoryLimitExceeded(
            f"the run needed more memory than it may use ({MEMORY_FACTOR} x {memory_limit_mb} MB, "
            "CONVEYOR_JOB_MEMORY_LIMIT_MB): its process was stopped"
        )
    raise PipelineProcessDied(f"the run's process ended without a result ({_exit_text(exitcode)})")


def _exit_text(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _rebuilt(kind: type[BaseException], args: tuple[Any, ...], attributes: dict[str, Any]) -> BaseException:
    """The exception the child raised: its type, args and attributes (built without calling its __init__, whose
    keyword-only arguments pickle would not pass)."""
    exc = kind.__new__(kind, *args)
    exc.args = args
    exc.__dict__.update(attributes)
    return exc


class _Supervisor:
    """The parent's side: relays the child's calls, tells it to stop, watches its memory; `wait` says how it ended."""

    def __init__(
        self,
        child: Any,
        conn: Connection,
        budget: int,
        log: Callable[[str, str], None],
        should_stop: Callable[[], bool],
        on_step: Callable[[int, int], None],
    ) -> None:
        self.conn = conn
        self.memory = MemoryWatch(child.pid, budget)
        self.log, self.should_stop, self.on_step = log, should_stop, on_step
        self.stopped_at: float | None = None

    def wait(self) -> tuple[Any, ...]:
        """("result", r) | ("error", type, args, attrs) | ("stopped",) | ("memory",) | ("died",)."""
        while True:
            try:  # one message at a time: a child that logs without pause is still watched and stopped
                if self.conn.poll(POLL_SECONDS):
                    message = self.conn.recv()
                    if message[0] == "log":
                        self.log(message[1], message[2])
                    elif message[0] == "step":
                        self.on_step(message[1], message[2])
                    else:
                        return message
            except EOFError:  # the child ended without a result
                return ("stopped",) if self.stopped_at is not None else ("died",)
            if self.memory.exceeded():
                return ("memory",)
            if self.stopped_at is None and self.should_stop():
                self.stopped_at = time.monotonic()
                with contextlib.suppress(OSError):  # a child that has just ended reads nothing more
                    self.conn.send(("stop",))
            elif self.stopped_at is not None and time.monotonic() - self.stopped_at > STOP_GRACE_SECONDS:
                return ("stopped",)


class _Parent:
    """The child's side of the pipe: its callbacks for `run_pipeline`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.stopped = False
        self._sending = threading.Lock()  # a plugin step may log from a thread of its own

    def send(self, message: tuple[Any, ...]) -> None:
        with self._sending:
            self.conn.send(message)

    def log(self, message: str, level: str = "info") -> None:
        self.send(("log", message, level))

    def on_step(self, index: int, total: int) -> None:
        self.send(("step", index, total))

    def should_stop(self) -> bool:
        return self._heard(0)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when the parent says stop (the engine then raises PipelineCancelled)."""
        end = time.monotonic() + seconds
        while not self._heard(max(0.0, end - time.monotonic())) and time.monotonic() < end:
            pass

    def _heard(self, timeout: float) -> bool:
        """Whether the parent has said stop (waiting up to `timeout` seconds for it)."""
        if not self.stopped and self.conn.poll(timeout):
            self.stopped = self.conn.recv()[0] == "stop"
        return self.stopped


def _child(conn: Connection, job: dict[str, Any]) -> None:
    """`run_pipeline(**job)` with the callbacks that talk to the parent; its result or error sent back."""
    parent = _Parent(conn)
    message: tuple[Any, ...]
    try:
        callbacks = {"log": parent.log, "should_stop": parent.should_stop, "sleep": parent.sleep}
        message = ("result", run_pipeline(**job, **callbacks, on_step=parent.on_step))
    except Exception as exc:  # raised again in the parent
        message = ("error", type(exc), exc.args, dict(vars(exc)))
        try:
            parent.send(message)
            return
        except Exception:  # an attribute pickle cannot take: the parent gets the text
            text = "".join(traceback.format_exception_only(exc)).strip()
            message = ("error", RuntimeError, (f"the run's process failed: {text}",), {})
    parent.send(message)
