"""Processes of the run-engine benchmark: stopping a process tree, and the bare-Dramatiq reference."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path

import redis
from dramatiq import Message

from bench._bare_actor import ACTOR, QUEUE, make_broker, messages_key
from bench._servers import BenchServers, figure

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc; children may run in their own sessions)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_tree(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM the process and wait; then SIGKILL whatever of its tree is left."""
    tree = _descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"pid {process.pid} did not stop in {timeout:.0f} s; killing it")
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in tree:
        if _alive(pid):
            log(f"killing leftover pid {pid}")
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- bare Dramatiq


def bare_dramatiq(
    servers: BenchServers, *, messages: int, processes: int, threads: int, poll_ms: int, timeout: float = 120.0
) -> tuple[float, float]:
    """Messages/s of a no-op actor, first ack to last, with `messages` enqueued beforehand, and the worker
    processes' CPU ms per message over the same span (the Redis server left out, as for every system)."""
    from bench._cpu import CpuMeter  # bench._cpu imports this module

    namespace = servers.redis_prefix("conveyor_bench_bare")
    client = redis.Redis.from_url(servers.redis_url)
    broker = make_broker(servers.redis_url, namespace)
    key = messages_key(namespace)
    started = time.perf_counter()
    for _ in range(messages):
        broker.enqueue(Message(queue_name=QUEUE, actor_name=ACTOR, args=(str(uuid.uuid4()),), kwargs={}, options={}))
    enqueue_s = time.perf_counter() - started
    broker.close()
    figure("run_engine.bare_dramatiq_enqueue", messages / enqueue_s, "msgs/s", note="one_client_no_pipelining")
    env = {
        **os.environ,
        "BENCH_REDIS_URL": servers.redis_url,
        "BENCH_BARE_NAMESPACE": namespace,
        "dramatiq_worker_timeout": str(poll_ms),
    }
    logfile = open(servers.tmp / "bare-dramatiq.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "bench._bare_actor", "-p", str(processes), "-t", str(threads), "-Q", QUEUE],
        cwd=ROOT,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    meter = CpuMeter(roots=[worker.pid], database_urls=[])
    try:
        deadline = time.monotonic() + timeout
        first_at = first_left = None
        while True:
            left = int(client.hlen(key))
            now = time.perf_counter()
            if first_at is None and left < messages:
                meter.start()
                first_at, first_left = now, left
            if left == 0:
                break
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(
                    f"bare Dramatiq consumed {messages - left}/{messages} messages before "
                    f"{'it exited' if worker.poll() is not None else 'the timeout'}; see its log:\n"
                    + (servers.tmp / "bare-dramatiq.log").read_text()[-2000:]
                )
            time.sleep(0.002)
        assert first_at is not None
        assert first_left is not None
        cpu_ms = meter.seconds() * 1000 / max(first_left, 1)
        return first_left / max(now - first_at, 1e-6), cpu_ms
    finally:
        stop_tree(worker)
        logfile.close()
        client.close()


# --------------------------------------------------------------------------- Conveyor
