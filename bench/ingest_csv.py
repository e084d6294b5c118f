"""CSV import: app.ingest.import_file on a generated 1 GiB CSV versus DuckDB's own COPY of the same file.

The benchmark writes a CSV of mixed columns (ints, floats with nulls, short strings, dates, timestamps,
booleans, strings with nulls) with DuckDB, then times, alternately and `--rounds` times each, in fresh child
processes with the same DuckDB settings (memory limit, 2 threads, a temp directory):

- the reference: `COPY (SELECT * FROM read_csv(file)) TO 'x.parquet' (FORMAT parquet)`;
- our import: `import_file(...)` with a default configuration (sniffing, explicit typed read_csv, rejects
  stored, column statistics) — its throughput relative to the reference (target ≥ 0.8) and the peak RSS of
  the process running it (target ≤ 1 GiB);
- our preview of the same file (100 rows): time to first response (target ≤ 1 s), first call and p50.

Everything lives in one temp directory, removed at the end.

    python -m bench.ingest_csv [--mb 1024] [--rounds 3] [--preview-calls 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench._ingest_data import DUCKDB_MEMORY, DUCKDB_THREADS, env_int, log, make_csv, run_job
from bench._servers import figure, percentile

TARGET_RATIO = 0.8
TARGET_RSS_MB = 1024.0
TARGET_PREVIEW_MS = 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_csv", description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=env_int("CONVEYOR_BENCH_CSV_MB", 1024), help="CSV size in MiB")
    parser.add_argument("--rounds", type=int, default=env_int("CONVEYOR_BENCH_INGEST_ROUNDS", 3))
    parser.add_argument("--preview-calls", type=int, default=5)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="conveyor-bench-ingest-csv-", dir=os.environ.get("CONVEYOR_BENCH_TMP")))
    try:
        run(tmp, megabytes=args.mb, rounds=max(1, args.rounds), preview_calls=max(1, args.preview_calls))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run(tmp: Path, *, megabytes: int, rounds: int, preview_calls: int) -> None:
    source = tmp / "bench.csv"
    spill = tmp / "duckdb_tmp"
    spill.mkdir()
    started = time.perf_counter()
    rows = make_csv(source, megabytes)
    size_mb = source.stat().st_size / 1024**2
    log(
        f"ingest_csv: wrote {size_mb:.0f} MiB, {rows} rows in {time.perf_counter() - started:.1f} s; "
        f"duckdb memory_limit={DUCKDB_MEMORY} threads={DUCKDB_THREADS}"
    )

    ours: list[dict] = []
    reference: list[dict] = []
    for round_ in range(rounds):
        target = tmp / "reference.parquet"
        reference.append(run_job("duckdb_copy", source=str(source), target=str(target), temp_dir=str(spill)))
        target.unlink()
        log(f"ingest_csv: round {round_ + 1} duckdb COPY {reference[-1]['seconds']:.2f} s")
        out = tmp / "import"
        ours.append(run_job("import", source=str(source), filename="bench.csv", out_dir=str(out), temp_dir=str(spill)))
        shutil.rmtree(out)
        log(f"ingest_csv: round {round_ + 1} import_file {ours[-1]['seconds']:.2f} s")
    for result in (*ours, *reference):
        if result["rows"] != rows:
            raise RuntimeError(f"a job read {result['rows']} rows, not {rows}: {result}")
    if any(result["rejected"] for result in ours):
        raise RuntimeError(f"import_file rejected rows: {ours}")

    best_ref = min(reference, key=lambda result: result["seconds"])
    best = min(ours, key=lambda result: result["seconds"])
    ref_s, ours_s = best_ref["seconds"], best["seconds"]
    # CPU seconds (user + system, all threads) vary less than wall time when other work shares the machine.
    ref_cpu = min(result["cpu_s"] for result in reference)
    ours_cpu = min(result["cpu_s"] for result in ours)
    ratio = ref_s / ours_s  # throughputs over the same bytes
    figure(
        "ingest_csv.duckdb_copy_throughput",
        size_mb / ref_s,
        "MB/s",
        ratio_to_reference=1.0,
        seconds=ref_s,
        cpu_s=ref_cpu,
        rows=rows,
        peak_rss_mb=max(result["peak_rss_mb"] for result in reference),
        note=f"reference_read_csv_to_parquet_best_of_{rounds}",
    )
    figure(
        "ingest_csv.import_throughput",
        size_mb / ours_s,
        "MB/s",
        ratio_to_duckdb_copy=ratio,
        target_ratio=TARGET_RATIO,
        ratio_to_target=ratio / TARGET_RATIO,
        seconds=ours_s,
        cpu_s=ours_cpu,
        cpu_ratio_to_duckdb_copy=ref_cpu / ours_cpu,
        rows=rows,
        file_mb=f"{size_mb:.0f}",
        note=f"import_file_best_of_{rounds}",
    )
    peak = max(result["peak_rss_mb"] for result in ours)
    figure(
        "ingest_csv.import_peak_rss",
        peak,
        "MB",
        ratio_to_target=peak / TARGET_RSS_MB,
        target_mb=TARGET_RSS_MB,
        duckdb_memory_limit=DUCKDB_MEMORY,
        note="VmHWM_of_the_child_process_running_import_file",
    )
    log(f"ingest_csv: column types {ours[0]['types']}")

    previewed = run_job("preview", source=str(source), filename="bench.csv", calls=preview_calls)
    times = [seconds * 1000 for seconds in previewed["seconds"]]
    figure(
        "ingest_csv.preview_first",
        times[0],
        "ms",
        ratio_to_target=times[0] / TARGET_PREVIEW_MS,
        target_ms=TARGET_PREVIEW_MS,
        rows=previewed["rows"],
        columns=previewed["columns"],
        file_mb=f"{size_mb:.0f}",
    )
    figure(
        "ingest_csv.preview_p50",
        percentile(times, 50),
        "ms",
        ratio_to_target=percentile(times, 50) / TARGET_PREVIEW_MS,
        calls=len(times),
        peak_rss_mb=previewed["peak_rss_mb"],
    )


if __name__ == "__main__":
    raise SystemExit(main())
