"""POST /api/v1/runs/batch alone: wall time and CPU per request of 1,000 runs, with no worker running.

`python -m app up --workers 0` on a fresh database: after a warm-up, `--requests` batches of `--batch`
no-op runs are submitted one after another (as the run_engine throughput phase does), and the API
process's and its Postgres backends' CPU is read from /proc around them. With no worker, nothing else
competes for the cores, so the figures are the request's own cost: the one run_engine's workers wait on
before their first run.

    python -m bench.batch_submit [--requests 20] [--batch 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench._conveyor import Conveyor
from bench._processes import log
from bench._servers import BenchServers, figure, percentile
from bench.run_engine import conveyor_meter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_submit", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=3, help="requests sent before measuring")
    args = parser.parse_args(argv)

    with BenchServers() as servers:
        log(f"batch_submit: {servers.where}")
        conveyor = Conveyor(servers, workers=0, threads=1)
        try:
            conveyor.start()
            conveyor.authenticate()
            pipeline = conveyor.create_pipeline("noop")
            for _ in range(args.warm_up):
                conveyor.submit_batch(pipeline, args.batch)
            meter = conveyor_meter(conveyor)
            meter.start()
            walls: list[float] = []
            for _ in range(args.requests):
                started = time.perf_counter()
                conveyor.submit_batch(pipeline, args.batch)
                walls.append((time.perf_counter() - started) * 1000)
            by_process = meter.breakdown()
        except BaseException:
            log("conveyor up log tail:\n" + conveyor.log_tail())
            raise
        finally:
            conveyor.stop()
    runs = args.requests * args.batch
    figure("batch_submit.request_ms.median", statistics.median(walls), "ms", batch=args.batch)
    figure("batch_submit.request_ms.p90", percentile(walls, 90), "ms", batch=args.batch)
    figure("batch_submit.runs_per_s", runs / (sum(walls) / 1000), "runs/s")
    for name, seconds in sorted(by_process.items()):
        if seconds > 0:
            figure(f"batch_submit.cpu_per_run.{name}", seconds * 1e6 / runs, "us")
    figure("batch_submit.cpu_per_run", sum(by_process.values()) * 1e6 / runs, "us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
