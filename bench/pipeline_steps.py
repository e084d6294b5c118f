"""A 5-step pipeline (filter, cast, dedupe, aggregate, join) over 10,000,000 rows vs the same SQL run directly.

Generates an `orders` Parquet file (10M rows, ~5 % duplicate ids, the day as
text) and a `customers` one (100k rows), then runs, alternately and
`--rounds` times each, with the same DuckDB settings as a worker job (memory
limit, 2 threads):

- ours: `app.pipeline.run_pipeline` on the spec below (the worker's code
  path: sandboxed connection, inputs as views, per-step row counts and log,
  output written and renamed, column statistics);
- the reference: one `COPY (...) TO ... (FORMAT parquet)` of the same logic
  written by hand, on a plain DuckDB connection.

Target from the issue: ours at least 0.9x the reference's speed.

    python -m bench.pipeline_steps [--rows 10000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from app.ingest import DuckDBSettings
from app.pipeline import InputFile, RunInfo, run_pipeline
from bench._ingest_data import env_int
from bench._servers import figure

TARGET_RATIO = 0.9
SETTINGS = DuckDBSettings(memory_limit="1024MB", threads=2)
SPEC = {
    "inputs": {"orders": {"dataset": "orders"}, "customers": {"dataset": "customers"}},
    "params": {"floor": {"type": "float", "default": 10}},
    "steps": [
        {"id": "kept", "type": "filter", "input": "orders", "where": "amount >= $floor"},
        {"id": "typed", "type": "cast", "columns": {"day": "date"}},
        {"id": "latest", "type": "dedupe", "keys": ["id"], "keep": "last", "order_by": ["amount"]},
        {
            "id": "daily",
            "type": "aggregate",
            "group_by": ["customer_id", "day"],
            "aggregates": [{"function": "sum", "column": "amount", "as": "total"}, {"function": "count", "as": "n"}],
        },
        {"id": "enriched", "type": "join", "with": "customers", "how": "left", "on": ["customer_id"]},
    ],
    "output": {"dataset": "daily_by_customer"},
}
REFERENCE = """
COPY (
    WITH kept AS (SELECT * FROM read_parquet('{orders}') WHERE amount >= 10),
    typed AS (SELECT * REPLACE (CAST(day AS DATE) AS day) FROM kept),
    latest AS (
        SELECT * FROM typed QUALIFY row_number() OVER (PARTITION BY id ORDER BY amount DESC NULLS LAST) = 1
    ),
    daily AS (
        SELECT customer_id, day, sum(amount) AS total, count(*) AS n FROM latest GROUP BY customer_id, day
    )
    SELECT d.*, c.region FROM daily d LEFT JOIN read_parquet('{customers}') c USING (customer_id)
) TO '{out}' (FORMAT parquet)
"""


def generate(work: Path, rows: int) -> tuple[Path, Path]:
    orders, customers = work / "orders.parquet", work / "customers.parquet"
    connection = duckdb.connect()
    connection.execute(
        f"""COPY (SELECT (i - (i % 20 = 0)::INT) AS id, (i * 7919) % 100000 AS customer_id,
                  strftime(DATE '2026-01-01' + CAST(i % 365 AS INT), '%Y-%m-%d') AS day,
                  round(((i * 31) % 100000) / 100.0, 2) AS amount,
                  CASE WHEN i % 3 = 0 THEN 'open' ELSE 'closed' END AS status
              FROM range({rows}) t(i)) TO '{orders}' (FORMAT parquet)"""
    )
    connection.execute(
        f"""COPY (SELECT i AS customer_id, 'region-' || (i % 12) AS region FROM range(100000) t(i))
            TO '{customers}' (FORMAT parquet)"""
    )
    connection.close()
    return orders, customers


def ours(work: Path, orders: Path, customers: Path, round_: int) -> tuple[float, int]:
    out = work / f"ours-{round_}"
    started = time.perf_counter()
    result = run_pipeline(
        SPEC,
        inputs={
            "orders": InputFile(path=str(orders), dataset_id="orders", version=1),
            "customers": InputFile(path=str(customers), dataset_id="customers", version=1),
        },
        params={},
        run=RunInfo(id=f"bench-{round_}"),
        out_dir=out,
        duckdb_settings=SETTINGS,
        log=lambda message, level="info": None,
        should_stop=lambda: False,
        sleep=time.sleep,
    )
    return time.perf_counter() - started, int(result.rows_out or 0)


def reference(work: Path, orders: Path, customers: Path, round_: int) -> tuple[float, int]:
    out = work / f"reference-{round_}.parquet"
    temp = work / f"reference-tmp-{round_}"
    temp.mkdir()
    started = time.perf_counter()
    connection = duckdb.connect(
        config={"memory_limit": SETTINGS.memory_limit, "threads": SETTINGS.threads, "temp_directory": str(temp)}
    )
    connection.execute(REFERENCE.format(orders=orders, customers=customers, out=out))
    elapsed = time.perf_counter() - started
    rows = connection.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
    connection.close()
    return elapsed, int(rows[0]) if rows else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_steps", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=env_int("CONVEYOR_BENCH_PIPELINE_ROWS", 10_000_000))
    parser.add_argument("--rounds", type=int, default=env_int("CONVEYOR_BENCH_PIPELINE_ROUNDS", 2))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="conveyor-bench-pipeline-"))
    try:
        started = time.perf_counter()
        orders, customers = generate(work, args.rows)
        print(f"# pipeline_steps: {args.rows} rows generated in {time.perf_counter() - started:.1f} s", flush=True)
        timings: dict[str, list[float]] = {"ours": [], "reference": []}
        counts: dict[str, int] = {}
        for round_ in range(args.rounds):
            for name, job in (("reference", reference), ("ours", ours)):
                seconds, rows = job(work, orders, customers, round_)
                timings[name].append(seconds)
                counts[name] = rows
                print(f"# round {round_ + 1}: {name} {seconds:.2f} s, {rows} rows out", flush=True)
        best_ours, best_reference = min(timings["ours"]), min(timings["reference"])
        speed = best_reference / best_ours
        figure("pipeline.reference_time", best_reference, "s", rows_in=args.rows, rows_out=counts["reference"])
        figure(
            "pipeline.run_time",
            best_ours,
            "s",
            speed_ratio_to_reference=round(speed, 3),
            target_ratio=TARGET_RATIO,
            ratio_to_target=round(speed / TARGET_RATIO, 3),
            rows_out=counts["ours"],
            same_rows=counts["ours"] == counts["reference"],
            note=f"best_of_{args.rounds}",
        )
        return 0 if counts["ours"] == counts["reference"] else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
