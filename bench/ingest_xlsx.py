"""Workbook import: app.ingest.import_file on a generated 1,000,000-row x 10-column xlsx versus a bare
python-calamine read plus a Parquet write, and versus pandas.read_excel(engine="openpyxl").

The benchmark writes the workbook as Excel does (shared strings, date and date-time styles, empty cells left
out; ints, floats with empties, short strings, dates, timestamps, booleans), then times, in fresh child
processes:

- the reference, `--rounds` times: calamine `to_python()` of the sheet, `pyarrow.array` per column (empty cells
  as nulls), `pyarrow.parquet.write_table`;
- our import, `--rounds` times (alternating with the reference): `import_file(...)`, default configuration —
  its speed relative to the reference (target ≥ 0.8) and its process's peak RSS;
- pandas: `read_excel(engine="openpyxl")` + `to_parquet` of the whole sheet (about 2 minutes for 1M rows);
  with `--pandas-rows N` only a 1-row and an N-row read are timed and extrapolated linearly to the whole
  sheet, and the figure line says so; our import should be ≥ 8x faster;
- our preview (100 rows): time to first response, first call and p50.

    python -m bench.ingest_xlsx [--rows 1000000] [--rounds 2] [--pandas-rows 0] [--preview-calls 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench._ingest_data import env_int, log, make_xlsx, run_job
from bench._servers import figure, percentile

TARGET_RATIO_CALAMINE = 0.8
TARGET_SPEEDUP_PANDAS = 8.0
TARGET_RSS_MB = 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_xlsx", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=env_int("CONVEYOR_BENCH_XLSX_ROWS", 1_000_000))
    parser.add_argument("--rounds", type=int, default=env_int("CONVEYOR_BENCH_INGEST_ROUNDS", 2))
    parser.add_argument(
        "--pandas-rows",
        type=int,
        default=env_int("CONVEYOR_BENCH_PANDAS_ROWS", 0),
        help="time pandas on this many rows and extrapolate (0: on the whole sheet, about 2 minutes for 1M rows)",
    )
    parser.add_argument("--preview-calls", type=int, default=3)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="conveyor-bench-ingest-xlsx-", dir=os.environ.get("CONVEYOR_BENCH_TMP")))
    try:
        run(
            tmp,
            rows=args.rows,
            rounds=max(1, args.rounds),
            pandas_rows=max(0, args.pandas_rows),
            preview_calls=max(1, args.preview_calls),
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run(tmp: Path, *, rows: int, rounds: int, pandas_rows: int, preview_calls: int) -> None:
    source = tmp / "bench.xlsx"
    spill = tmp / "duckdb_tmp"
    spill.mkdir()
    started = time.perf_counter()
    make_xlsx(source, rows)
    size_mb = source.stat().st_size / 1024**2
    log(f"ingest_xlsx: wrote {rows} rows x 10 columns, {size_mb:.0f} MiB, in {time.perf_counter() - started:.1f} s")

    ours: list[dict] = []
    reference: list[dict] = []
    for round_ in range(rounds):
        target = tmp / "reference.parquet"
        reference.append(run_job("calamine", source=str(source), target=str(target)))
        target.unlink()
        log(f"ingest_xlsx: round {round_ + 1} calamine+pyarrow {reference[-1]['seconds']:.2f} s")
        out = tmp / "import"
        ours.append(run_job("import", source=str(source), filename="bench.xlsx", out_dir=str(out), temp_dir=str(spill)))
        shutil.rmtree(out)
        log(f"ingest_xlsx: round {round_ + 1} import_file {ours[-1]['seconds']:.2f} s")
    for result in (*ours, *reference):
        if result["rows"] != rows:
            raise RuntimeError(f"a job read {result['rows']} rows, not {rows}: {result}")
    if any(result["rejected"] for result in ours):
        raise RuntimeError(f"import_file rejected rows: {ours}")
    log(f"ingest_xlsx: column types {ours[0]['types']}")

    best_ref = min(reference, key=lambda result: result["seconds"])
    best = min(ours, key=lambda result: result["seconds"])
    ref_s, ours_s = best_ref["seconds"], best["seconds"]
    # CPU seconds (user + system, all threads) vary less than wall time when other work shares the machine.
    ref_cpu = min(result["cpu_s"] for result in reference)
    ours_cpu = min(result["cpu_s"] for result in ours)
    figure(
        "ingest_xlsx.calamine_pyarrow_time",
        ref_s,
        "s",
        ratio_to_reference=1.0,
        cpu_s=ref_cpu,
        rows=rows,
        peak_rss_mb=max(result["peak_rss_mb"] for result in reference),
        note=f"reference_to_python+pa.array+write_table_best_of_{rounds}",
    )
    ratio = ref_s / ours_s
    figure(
        "ingest_xlsx.import_time",
        ours_s,
        "s",
        speed_ratio_to_calamine=ratio,
        target_ratio=TARGET_RATIO_CALAMINE,
        ratio_to_target=ratio / TARGET_RATIO_CALAMINE,
        cpu_s=ours_cpu,
        cpu_ratio_to_calamine=ref_cpu / ours_cpu,
        rows_per_s=f"{rows / ours_s:.0f}",
        file_mb=f"{size_mb:.0f}",
        note=f"import_file_best_of_{rounds}",
    )

    pandas_s, pandas_rss, note = pandas_time(source, tmp / "pandas.parquet", rows=rows, subset=pandas_rows)
    speedup = pandas_s / ours_s
    figure(
        "ingest_xlsx.pandas_openpyxl_time",
        pandas_s,
        "s",
        ours_faster_by=speedup,
        target_speedup=TARGET_SPEEDUP_PANDAS,
        ratio_to_target=speedup / TARGET_SPEEDUP_PANDAS,
        rows=rows,
        peak_rss_mb=pandas_rss,
        note=note,
    )
    peak = max(result["peak_rss_mb"] for result in ours)
    figure(
        "ingest_xlsx.import_peak_rss",
        peak,
        "MB",
        ratio_to_target=peak / TARGET_RSS_MB,
        target_mb=TARGET_RSS_MB,
        calamine_reference_peak_rss_mb=max(result["peak_rss_mb"] for result in reference),
        note="VmHWM_of_the_child_process_running_import_file",
    )

    previewed = run_job("preview", source=str(source), filename="bench.xlsx", calls=preview_calls)
    times = [seconds * 1000 for seconds in previewed["seconds"]]
    figure("ingest_xlsx.preview_first", times[0], "ms", rows=previewed["rows"], columns=previewed["columns"])
    figure(
        "ingest_xlsx.preview_p50",
        percentile(times, 50),
        "ms",
        calls=len(times),
        peak_rss_mb=previewed["peak_rss_mb"],
        note="reads_a_copy_cut_after_the_rows_it_needs",
    )


def pandas_time(source: Path, target: Path, *, rows: int, subset: int) -> tuple[float, float, str]:
    """Seconds pandas takes for the whole sheet: measured when `subset` is 0 or covers it, else extrapolated
    linearly from a 1-row read (the fixed cost: openpyxl loads every shared string first) and a `subset` read."""
    if not subset or subset >= rows:
        result = run_job("pandas", source=str(source), target=str(target), nrows=[rows])
        return result["seconds"][0], result["peak_rss_mb"], "measured_on_all_rows"
    result = run_job("pandas", source=str(source), target=str(target), nrows=[1, subset])
    fixed, high = result["seconds"]
    log(f"ingest_xlsx: pandas read_excel+to_parquet 1 row {fixed:.2f} s, {subset} rows {high:.2f} s")
    per_row = max(high - fixed, 0.0) / (subset - 1)
    return fixed + per_row * rows, result["peak_rss_mb"], f"extrapolated_linearly_from_nrows=1,{subset}"


if __name__ == "__main__":
    raise SystemExit(main())
