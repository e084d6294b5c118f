"""Conveyor beside its peers: the same no-op workload on each system, rounds interleaved, one table at the end.

Systems: Conveyor (`conveyor up`, REST batch submit), procrastinate, PgQueuer,
Celery (Redis broker with Redis results, and with Postgres results, thread
pool), RQ (SimpleWorker) and bare Dramatiq (the transport Conveyor uses, with
no durable record). Workload: `--jobs` no-ops submitted at once (in bulk where
the system has it), `--processes` worker processes x `--concurrency`. Each
system's workers are started and warmed up (a few jobs) before the timed
submit. Figures: jobs/s = jobs / (last finish in the system's own durable
record - submit start); CPU per job = CPU seconds of the system's processes
and its Postgres backends over the phase (from /proc) / jobs, plus the submit
call's CPU in this process for the peers (Conveyor's submit is its API
process), with the Postgres backends' part printed apart (bare Dramatiq: its
worker processes, from the first message taken to the last). The Redis server
is left out for every system. The load average is printed with every figure:
the machine is shared, and one round swings by a third from one minute to the
next, so `make bench` runs three rounds, interleaved (each round starts with the
next system), and the ratios compare each system's best round and its median.

    python -m bench peers [--jobs 5000] [--rounds 3] [--only conveyor,pgqueuer,...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from statistics import median

from bench._conveyor import WORKER_POLL_MS, Conveyor
from bench._cpu import CpuMeter
from bench._peers import PEERS, Peer, start_workers, wait_done
from bench._processes import bare_dramatiq, log, stop_tree
from bench._servers import BenchServers, figure
from bench.run_engine import warm_up

WARM_JOBS = 50


def load() -> str:
    return "/".join(Path("/proc/loadavg").read_text().split()[:3])


def postgres_seconds(meter: CpuMeter) -> float:
    """The part of the meter's CPU seconds its Postgres backends used."""
    return sum(seconds for label, seconds in meter.breakdown().items() if label.startswith("pg:"))


def run_peer(
    servers: BenchServers, name: str, *, jobs: int, processes: int, concurrency: int
) -> tuple[float, float, float]:
    """(jobs/s, CPU ms per job, of which Postgres) of one round of peer `name`."""
    kind, records = PEERS[name]
    peer: Peer = kind(name=name, records=records, servers=servers)
    peer.setup()
    workers = start_workers(peer, processes, concurrency, servers.tmp / f"{name}.log")
    try:
        peer.submit(WARM_JOBS)
        warm = wait_done(peer, WARM_JOBS, timeout=180)  # some workers take long to boot on a loaded machine
        if warm.count < WARM_JOBS:
            raise RuntimeError(f"{name}: only {warm.count}/{WARM_JOBS} warm-up jobs finished; see {name}.log")
        meter = CpuMeter(roots=[w.pid for w in workers], database_urls=[peer.database_url] if peer.database_url else [])
        meter.start()
        started, cpu0 = time.time(), time.process_time()
        peer.submit(jobs)
        submit_cpu = time.process_time() - cpu0
        done = wait_done(peer, WARM_JOBS + jobs, timeout=300)
        cpu, postgres = meter.seconds() + submit_cpu, postgres_seconds(meter)
        finished = done.count - WARM_JOBS
        if finished < jobs:
            log(f"{name}: only {finished}/{jobs} jobs finished")
        rate = finished / (done.last_at - started) if done.last_at > started else 0.0
        return rate, cpu * 1000 / max(finished, 1), postgres * 1000 / max(finished, 1)
    finally:
        for worker in workers:
            stop_tree(worker, timeout=20)
        peer.close()


def run_conveyor(servers: BenchServers, *, jobs: int, processes: int, concurrency: int) -> tuple[float, float, float]:
    conveyor = Conveyor(servers, workers=processes, threads=concurrency)
    try:
        conveyor.start()
        conveyor.authenticate()
        pipeline = conveyor.create_pipeline("noop")
        warm_up(conveyor, pipeline)
        assert conveyor.process is not None
        meter = CpuMeter(roots=[conveyor.process.pid], database_urls=[conveyor.database_url])
        meter.start()
        since = conveyor.db_now()
        for start in range(0, jobs, 1000):
            conveyor.submit_batch(pipeline, min(1000, jobs - start))
        conveyor.wait_finished(since, "batch", jobs, timeout=300)
        cpu, postgres = meter.seconds(), postgres_seconds(meter)
        row = conveyor.db.execute(
            """SELECT count(*) FILTER (WHERE status = 'SUCCEEDED'), extract(epoch FROM max(finished_at) - %(since)s)
               FROM runs WHERE created_at >= %(since)s AND trigger = 'batch'""",
            {"since": since},
        ).fetchone()
        assert row is not None
        succeeded, seconds = int(row[0]), float(row[1] or 0)
        per_job = 1000 / max(succeeded, 1)
        return (succeeded / seconds if seconds > 0 else 0.0), cpu * per_job, postgres * per_job
    except BaseException:
        log("conveyor up log tail:\n" + conveyor.log_tail())
        raise
    finally:
        conveyor.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench peers", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", default="", help="comma-separated systems (default: all)")
    args = parser.parse_args(argv)
    systems = ["conveyor", *PEERS, "bare_dramatiq"]
    if args.only:
        systems = [s for s in systems if s in args.only.split(",")]
    results: dict[str, list[tuple[float, float, float, str]]] = {s: [] for s in systems}
    with BenchServers() as servers:
        for round_ in range(args.rounds):
            order = systems[round_ % len(systems) :] + systems[: round_ % len(systems)]
            for name in order:
                try:
                    if name == "conveyor":
                        rate, cpu, postgres = run_conveyor(
                            servers, jobs=args.jobs, processes=args.processes, concurrency=args.concurrency
                        )
                    elif name == "bare_dramatiq":
                        rate, cpu = bare_dramatiq(
                            servers,
                            messages=args.jobs,
                            processes=args.processes,
                            threads=args.concurrency,
                            poll_ms=int(WORKER_POLL_MS),
                        )
                        postgres = 0.0
                    else:
                        rate, cpu, postgres = run_peer(
                            servers, name, jobs=args.jobs, processes=args.processes, concurrency=args.concurrency
                        )
                except Exception as exc:  # one system failing must not lose the others' figures
                    log(f"{name} failed: {type(exc).__name__}: {exc}")
                    continue
                results[name].append((rate, cpu, postgres, load()))
                figure(
                    f"peers.{name}.jobs_per_s",
                    rate,
                    "jobs/s",
                    cpu_ms_per_job=cpu,
                    postgres_ms_per_job=postgres,
                    round=round_ + 1,
                    load=load(),
                )
    conveyor_rates = [r[0] for r in results.get("conveyor", [])]
    print(
        "\n| system | jobs/s (each round) | CPU ms/job (of which Postgres) "
        "| Conveyor's ratio (best/best, median/median) | records per job |"
    )
    print("|---|---|---|---|---|")
    for name in systems:
        rounds = results[name]
        rates = ", ".join(f"{r[0]:.0f} (load {r[3]})" for r in rounds) or "failed"
        cpus = ", ".join(f"{r[1]:.2f} ({r[2]:.2f})" for r in rounds)
        ratio = "-"
        if rounds and conveyor_rates and name != "conveyor" and min(r[0] for r in rounds) > 0:
            own = [r[0] for r in rounds]
            ratio = f"{max(conveyor_rates) / max(own):.2f}, {median(conveyor_rates) / median(own):.2f}"
            figure(
                f"peers.conveyor_ratio_to.{name}",
                max(conveyor_rates) / max(own),
                "x",
                median_ratio=median(conveyor_rates) / median(own),
                rounds=len(own),
            )
        records = PEERS[name][1] if name in PEERS else RECORDS.get(name, "")
        print(f"| {name} | {rates} | {cpus} | {ratio} | {records} |")
    return 0


RECORDS = {
    "conveyor": "run row with four durable states (PENDING/QUEUED/RUNNING/final) and an event each, its broker "
    "message id (an outbox row when the relay sends it), log lines in Postgres and a live log stream, rollup row",
    "bare_dramatiq": "nothing durable (the message in Redis until acked); CPU: its worker processes",
}


if __name__ == "__main__":
    raise SystemExit(main())
