"""Run-engine throughput and latency against `conveyor up`, with bare Dramatiq as the transport ceiling.

1. Bare Dramatiq: N no-op messages enqueued on a RedisBroker (own namespace,
   same Redis), then consumed by `python -m dramatiq bench._bare_actor -p 2 -t 8`;
   messages/s from the first ack to the last.
2. `python -m app up --workers 2` on a fresh database and Redis namespace:
   5,000 no-op runs submitted with POST /api/v1/runs/batch (1,000 a batch);
   end-to-end runs/s = SUCCEEDED runs / (last finished_at - submit start),
   both on the database clock. Completion is polled in the database. Requests
   carry an API token of the bootstrap admin (CONVEYOR_ADMIN_PASSWORD is set).
3. Single runs (POST /api/v1/runs) offered at a steady 50 runs/s for 10 s;
   p50/p95/p99 of created→started and created→finished from the run rows.
4. The same single runs while a burst of 5,000 batch runs (`--burst`) is
   submitted at the start of the phase: their created→started p99 (target
   ≤ 250 ms), figures prefixed run_engine.burst.

Targets (issue 16, 2-core machine): ≥ 2,000 runs/s end to end, ≥ 0.5 x bare
Dramatiq, ≤ 1.0 ms CPU per run (every Conveyor process and its Postgres
backends), p50 created→started ≤ 4 ms, p99 ≤ 15 ms at 50 runs/s. Every ratio is
value / target: ≥ 1 is good for throughput, ≤ 1 for latency and CPU. Where
the CPU went is printed per process (run_engine.cpu_per_run.<process>: api,
scheduler, worker-N, and pg:<process> for the Postgres backends it talks to).

    python -m bench.run_engine [--runs 5000] [--rate 50] [--seconds 10] [--own-postgres]

--own-postgres runs it all against a dedicated embedded Postgres (app.embedded, Unix socket, what
`make run` uses) instead of the shared server, to tell our cost from the shared server's state; the first
line says which server and its synchronous_commit, fsync and autovacuum.
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._conveyor import WORKER_POLL_MS, Conveyor
from bench._cpu import CpuMeter
from bench._processes import bare_dramatiq, log
from bench._servers import BenchServers, figure, percentile

ROOT = Path(__file__).resolve().parent.parent
TARGET_RUNS_PER_S = 2000.0
TARGET_BARE_RATIO = 0.5
TARGET_STARTED_P50_MS = 4.0
TARGET_STARTED_P99_MS = 15.0
TARGET_CPU_MS_PER_RUN = 1.0
TARGET_BURST_P99_MS = 250.0


def load_average() -> str:
    """The 1/5/15-minute load average: the machine is shared, so every figure carries it."""
    return "/".join(Path("/proc/loadavg").read_text().split()[:3])


def warm_up(conveyor: Conveyor, pipeline: str, timeout: float = 60.0) -> None:
    """Submit a few runs at a time until every worker process has run one (so all have booted)."""
    deadline = time.monotonic() + timeout
    since = conveyor.db_now()
    batched = single = 0
    while True:
        conveyor.submit_batch(pipeline, 50)
        for _ in range(10):
            conveyor.submit_one(pipeline)
        batched, single = batched + 50, single + 10
        counts = conveyor.wait_finished(since, "batch", batched, timeout=30)
        conveyor.wait_finished(since, "api", single, timeout=30)
        workers = conveyor.db.execute(
            "SELECT count(DISTINCT worker_id) FROM runs WHERE created_at >= %s AND status = 'SUCCEEDED'", (since,)
        ).fetchone()[0]  # type: ignore[index]
        if workers >= conveyor.workers:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {workers}/{conveyor.workers} workers ran a run in {timeout:.0f} s "
                f"(batch counts {counts})\n{conveyor.log_tail()}"
            )
        time.sleep(0.2)


def cpu_breakdown(prefix: str, by_process: dict[str, float], runs: int) -> None:
    """One figure per process: its CPU per run and its share of the total."""
    total = sum(by_process.values()) or 1e-9
    for name, seconds in by_process.items():
        if seconds > 0:
            figure(f"{prefix}.{name}", seconds * 1000 / max(runs, 1), "ms", share=seconds / total)


def conveyor_meter(conveyor: Conveyor) -> CpuMeter:
    """CPU of every Conveyor process and its Postgres backends, the bench's own polling connection left out."""
    assert conveyor.process is not None
    return CpuMeter(
        roots=[conveyor.process.pid],
        database_urls=[conveyor.database_url],
        exclude={conveyor.db.info.backend_pid},
    )


def throughput(conveyor: Conveyor, pipeline: str, *, runs: int, batch: int, bare: float | None, timeout: float) -> None:
    assert conveyor.process is not None
    meter = conveyor_meter(conveyor)
    meter.start()
    commits = conveyor.commits()
    since = conveyor.db_now()
    started = time.perf_counter()
    left = runs
    while left > 0:
        conveyor.submit_batch(pipeline, min(batch, left))
        left -= min(batch, left)
    submit_s = time.perf_counter() - started
    counts = conveyor.wait_finished(since, "batch", runs, timeout=timeout)
    by_process = meter.breakdown()
    cpu_s = sum(by_process.values())
    commits = conveyor.commits() - commits
    row = conveyor.db.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'SUCCEEDED'),
               extract(epoch FROM max(queued_at) - %(since)s),
               extract(epoch FROM max(started_at) - %(since)s),
               extract(epoch FROM max(finished_at) - %(since)s),
               extract(epoch FROM max(finished_at) - min(queued_at))
        FROM runs WHERE created_at >= %(since)s AND trigger = 'batch'
        """,
        {"since": since},
    ).fetchone()
    assert row is not None
    succeeded, last_queued, last_started, last_finished, queued_to_done = (
        row[0],
        *(float(v or 0) for v in row[1:]),
    )
    if succeeded < runs:
        log(f"only {succeeded}/{runs} runs SUCCEEDED in {timeout:.0f} s: {counts}")
    e2e = succeeded / last_finished if last_finished > 0 else 0.0
    figure(
        "run_engine.e2e_throughput",
        e2e,
        "runs/s",
        ratio_to_target=e2e / TARGET_RUNS_PER_S,
        ratio_to_bare_dramatiq=e2e / bare if bare else None,
        target_ratio_to_bare=TARGET_BARE_RATIO,
        runs=f"{succeeded}/{runs}",
        seconds=last_finished,
        load=load_average(),
    )
    # Every Conveyor process (API, scheduler/relay, workers) and its Postgres backends, from /proc.
    figure(
        "run_engine.cpu_per_run",
        cpu_s * 1000 / max(succeeded, 1),
        "ms",
        ratio_to_target=cpu_s * 1000 / max(succeeded, 1) / TARGET_CPU_MS_PER_RUN,
        load=load_average(),
    )
    cpu_breakdown("run_engine.cpu_per_run", by_process, succeeded)
    # A commit is most of a backend's cost: fewer per run means bigger shared batches (starts, finishes, logs).
    figure(
        "run_engine.commits_per_100_runs",
        commits * 100 / max(succeeded, 1),
        "commits",
        note="pg_stat_database_xact_commit_may_lag_1s",
    )
    # Where the time went: how soon after the submit started the last run was accepted, sent to the
    # broker (queued_at, by the relay), started and finished (database clock).
    figure(
        "run_engine.submit_throughput",
        runs / submit_s,
        "runs/s",
        ratio_to_target=runs / submit_s / 1000,
        note=f"api_accepted_{runs}_in_{submit_s:.2f}s",
    )
    for name, seconds in (
        ("queued", last_queued),
        ("started", last_started),
        ("finished", last_finished),
    ):
        figure(
            f"run_engine.e2e_stage.{name}_throughput",
            runs / seconds if seconds else 0.0,
            "runs/s",
            ratio_to_target=(runs / seconds / TARGET_RUNS_PER_S) if seconds else None,
            last_at_s=seconds,
        )
    figure(
        "run_engine.workers_throughput",
        succeeded / queued_to_done if queued_to_done else 0.0,
        "runs/s",
        ratio_to_target=(succeeded / queued_to_done / TARGET_RUNS_PER_S) if queued_to_done else None,
        note="first_queued_to_last_finished",
    )


def submit_burst(
    conveyor: Conveyor, pipeline: str, runs: int, batch: int, errors: list[BaseException], lock: threading.Lock
) -> None:
    """`runs` batch runs submitted as fast as the API takes them (the burst the single runs must not wait behind)."""
    try:
        left = runs
        while left > 0:
            conveyor.submit_batch(pipeline, min(batch, left))
            left -= min(batch, left)
    except BaseException as exc:  # reported after the phase
        with lock:
            errors.append(exc)


def latency(
    conveyor: Conveyor,
    pipeline: str,
    *,
    rate: float,
    seconds: float,
    timeout: float,
    burst: int = 0,
    batch: int = 1000,
    prefix: str = "run_engine",
) -> None:
    """Single runs offered at `rate`; with `burst`, that many batch runs are submitted as the phase starts."""
    count = int(rate * seconds)
    backlog = conveyor.wait_idle(timeout)
    if backlog:
        log(f"{backlog} runs of the throughput phase still unfinished; latencies include their queue")
    errors: list[BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            conveyor.submit_one(pipeline)
        except BaseException as exc:  # reported after the phase
            with lock:
                errors.append(exc)

    assert conveyor.process is not None
    meter = conveyor_meter(conveyor)
    meter.start()
    since = conveyor.db_now()
    with ThreadPoolExecutor(max_workers=8) as pool:
        if burst > 0:
            pool.submit(submit_burst, conveyor, pipeline, burst, batch, errors, lock)
        start = time.perf_counter()
        for index in range(count):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(submit)
        offered_s = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} submits failed; first: {errors[0]!r}")
    offered = (count - 1) / offered_s if offered_s > 0 else 0.0
    counts = conveyor.wait_finished(since, "api", count, timeout=timeout)
    if burst > 0:
        conveyor.wait_finished(since, "batch", burst, timeout=timeout)
    by_process = meter.breakdown()
    rows = conveyor.db.execute(
        """
        SELECT extract(epoch FROM started_at - created_at) * 1000,
               extract(epoch FROM finished_at - created_at) * 1000,
               extract(epoch FROM queued_at - created_at) * 1000,
               extract(epoch FROM started_at - queued_at) * 1000
        FROM runs WHERE created_at >= %s AND trigger = 'api' AND status = 'SUCCEEDED'
        """,
        (since,),
    ).fetchall()
    if len(rows) < count:
        log(f"only {len(rows)}/{count} latency runs SUCCEEDED: {counts}")
    started = [float(r[0]) for r in rows]
    finished = [float(r[1]) for r in rows]
    queued = [float(r[2]) for r in rows]
    picked = [float(r[3]) for r in rows]
    figure(
        f"{prefix}.offered_load",
        offered,
        "runs/s",
        ratio_to_target=offered / rate,
        runs=f"{len(rows)}/{count}",
        backlog_at_start=backlog,
        burst=burst,
    )
    figure(
        f"{prefix}.latency_phase.cpu_per_run",
        sum(by_process.values()) * 1000 / max(len(rows) + burst, 1),
        "ms",
        note="burst_and_single_submits" if burst else "single_submits_incl_idle_cost",
    )
    cpu_breakdown(f"{prefix}.latency_phase.cpu_per_run", by_process, len(rows) + burst)
    targets = {99: TARGET_BURST_P99_MS} if burst else {50: TARGET_STARTED_P50_MS, 99: TARGET_STARTED_P99_MS}
    for q in (50, 95, 99):
        value = percentile(started, q)
        target = targets.get(q)
        figure(
            f"{prefix}.created_to_started.p{q}",
            value,
            "ms",
            ratio_to_target=value / target if target else None,
            target_ms=target if target else "none",
            load=load_average(),
        )
    for q in (50, 95, 99):
        figure(f"{prefix}.created_to_finished.p{q}", percentile(finished, q), "ms", target_ms="none")
    # The two halves of created→started: outbox relay, then broker + worker pick-up.
    for q in (50, 99):
        figure(
            f"{prefix}.created_to_queued.p{q}",
            percentile(queued, q),
            "ms",
            share_of_started=percentile(queued, q) / max(percentile(started, q), 1e-9),
        )
        figure(
            f"{prefix}.queued_to_started.p{q}",
            percentile(picked, q),
            "ms",
            share_of_started=percentile(picked, q) / max(percentile(started, q), 1e-9),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_engine", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="offered load of the latency phase (runs/s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency phase")
    parser.add_argument("--burst", type=int, default=5000, help="batch runs submitted during the burst phase (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--bare-messages", type=int, default=20000)
    parser.add_argument("--timeout", type=float, default=90.0, help="longest wait for a phase's runs to finish")
    parser.add_argument(
        "--worker-poll-ms",
        type=int,
        help="dramatiq_worker_timeout for both (default: 10 for bare Dramatiq, Conveyor's own)",
    )
    parser.add_argument(
        "--own-postgres",
        action="store_true",
        help="a dedicated embedded Postgres (as `make run` starts) instead of the shared server",
    )
    args = parser.parse_args(argv)

    with BenchServers(own_postgres=args.own_postgres) as servers:
        log(f"run_engine: {servers.where}")
        bare = None
        if args.bare_messages > 0:
            bare, bare_cpu = bare_dramatiq(
                servers,
                messages=args.bare_messages,
                processes=args.workers,
                threads=args.threads,
                poll_ms=args.worker_poll_ms or int(WORKER_POLL_MS),
            )
            figure(
                "run_engine.bare_dramatiq_throughput",
                bare,
                "msgs/s",
                ratio_to_reference=1.0,
                cpu_ms_per_msg=bare_cpu,
                note=f"reference_{args.workers}p_{args.threads}t_poll{args.worker_poll_ms or WORKER_POLL_MS}ms",
            )
        conveyor = Conveyor(servers, workers=args.workers, threads=args.threads, poll_ms=args.worker_poll_ms)
        try:
            conveyor.start()
            conveyor.authenticate()
            pipeline = conveyor.create_pipeline("noop")
            warm_up(conveyor, pipeline)
            if args.runs > 0:
                throughput(conveyor, pipeline, runs=args.runs, batch=args.batch, bare=bare, timeout=args.timeout)
            if args.seconds > 0:
                latency(conveyor, pipeline, rate=args.rate, seconds=args.seconds, timeout=args.timeout)
            if args.seconds > 0 and args.burst > 0:
                latency(
                    conveyor,
                    pipeline,
                    rate=args.rate,
                    seconds=args.seconds,
                    timeout=args.timeout,
                    burst=args.burst,
                    batch=args.batch,
                    prefix="run_engine.burst",
                )
        except BaseException:
            log("conveyor up log tail:\n" + conveyor.log_tail())
            raise
        finally:
            conveyor.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
