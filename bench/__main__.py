"""`python -m bench [NAME ...]` (what `make bench` runs): every benchmark, or the ones named.

`python -m bench NAME --option ...` passes the options to that one benchmark (`python -m bench peers --rounds 3`).

Each benchmark prints one line per figure on stdout (name, value, unit, then
its ratios to the target or reference) and its progress notes on stderr
prefixed with `#`. One failing benchmark does not stop the others; the exit
status says whether all of them ran.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    api_cost,
    auth_overhead,
    console_dashboard,
    console_entry,
    console_log,
    datacenter,
    deployment_occurrences,
    ingest_csv,
    ingest_xlsx,
    metrics_views,
    name_search,
    peers,
    pipeline_steps,
    run_engine,
    run_log,
    runs_list,
    scheduler_load,
    storage_s3,
    transition_sql,
    webhooks,
)

BENCHMARKS: dict[str, Callable[[list[str] | None], int]] = {
    "run_engine": run_engine.main,
    "transition_sql": transition_sql.main,
    "runs_list": runs_list.main,
    "auth_overhead": auth_overhead.main,
    "scheduler_load": scheduler_load.main,
    "ingest_csv": ingest_csv.main,
    "ingest_xlsx": ingest_xlsx.main,
    "pipeline_steps": pipeline_steps.main,
    "metrics_views": metrics_views.main,
    "deployment_occurrences": deployment_occurrences.main,
    "console_entry": console_entry.main,
    "console_dashboard": console_dashboard.main,
    "console_log": console_log.main,
    "run_log": run_log.main,
    "datacenter": datacenter.main,
    "webhooks": webhooks.main,
    "peers": peers.main,
    "storage_s3": storage_s3.main,
    "api_cost": api_cost.main,
    "name_search": name_search.main,
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    first_option = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    names, options = args[:first_option] or list(BENCHMARKS), args[first_option:]
    if options and len(names) != 1:
        print("options go to one benchmark: python -m bench NAME --option ...", file=sys.stderr)
        return 2
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed: list[str] = []
    for name in names:
        started = time.monotonic()
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if sys.platform == "linux" else "?"
        print(f"# {name}: starting (load average {load})", file=sys.stderr, flush=True)
        try:
            code = BENCHMARKS[name](options)
        except Exception:
            traceback.print_exc()
            code = 1
        if code:
            failed.append(name)
        print(
            f"# {name}: {'FAILED' if code else 'done'} in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
