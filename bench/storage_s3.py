"""The data root on S3 (a local SeaweedFS) against the local disk: CSV import and the version cache.

- CSV import: our import on a local file versus an import worker's whole path on S3 (the upload fetched into
  the host's cache, import_file, the Parquet uploaded), each in a fresh child process, alternately; the ratio
  local/S3 time (target >= 0.7), the S3 child's peak RSS (target <= 1 GiB), and its time and CPU per phase.
- The same imports in CPU seconds (the S3 job's own plus the S3 server's, which shares the machine): a figure
  that holds under load, where wall-clock ratios on a shared 2-core machine do not.
- The version cache a pipeline reads through: fetching the Parquet cold (downloaded) and warm (a cache hit).
- bench.pipeline_steps' 5-step pipeline over 10M rows (`--pipeline-rows`, 0 skips it): on the local disk (inputs
  read in place, output written in place) and on S3 with a cold cache (inputs downloaded) and a warm one (cache
  hits), both uploading the output; ratios local/S3 (warm target >= 0.9).

Sizes are modest by default (`--mb 128`); the issue's figure is for 1 GiB (`--mb 1024`).

Reading the CSV from the store while DuckDB parses, instead of downloading it first, was tried and did not pay
(Dec 2026; the code is in the branch history, commits "Stream a CSV upload ..." to "Read two ranges ahead ..."):
- A named pipe the download writes while read_csv reads it: the S3 job 9.9-10.1 CPU-s against 12.0-13.9, but
  DuckDB cannot seek a pipe and reads and parses it on about one core: import 11.2-11.3 s against 5.4-5.7 s
  local (ratio 0.41).
- DuckDB's register_filesystem with a one-file fsspec filesystem over ranged GETs (obstore's own fsspec adapter
  returns short reads that DuckDB refuses): parallel parsing, each byte read once in 32 MiB ranges, the sandbox
  kept (the URL in allowed_paths); but 1.2-1.5 client CPU-s more than download + import (fresh 32 MiB buffers;
  handing DuckDB obstore's buffer uncopied, or one reused buffer per thread, did not change it), and without
  read-ahead each GET stalls the parsers (import 10.8 s against 5.05 s local). With two ranges read ahead,
  A/B against download-first (import + upload, load 2-3.5): 8.37 against 7.58 s, 8.44 against 12.56 s;
  under load 6-8 the CPU decides and it is no better. Neither reaches the 0.7 ratio.
- DuckDB's own httpfs extension reading the CSV from the store and writing the Parquet to it (COPY from and to
  s3://, multipart parts sent as they fill). No httpfs build for DuckDB 2.0 is installable here (DuckDB's
  extension server is unreachable; PyPI's duckdb-extension-httpfs, DuckDB's signed binary repackaged, stops at
  1.5.5), so it was measured in a separate environment on DuckDB 1.5.5, plain COPY read_csv -> zstd Parquet,
  1 GiB, fresh VM, 3 alternations (Dec 2026, load 1.2-2.9): local 3.4-4.6 s; CSV read from S3 to a local
  Parquet 4.4-5.5 s (client 7.0-7.6 CPU-s against 6.6-8.7, server 1.0-1.2); both ends on S3 5.5-6.0 s
  (server 2.8-2.9 CPU-s); download-then-COPY 4.7-6.8 s. So about 0.6-0.65 with both ends streamed: better than
  download-first, still short of 0.7, at the price of pinning DuckDB to 1.5.5 (which also changes two of our
  tested behaviours: digits past int64 infer as DOUBLE, and a pipeline step's method-call SQL does not parse).
  Not adopted; worth taking when an httpfs for the DuckDB we ship can be installed from PyPI.
- Uploading the Parquet while DuckDB writes it: not by following the growing file (strace of COPY ... TO a local
  parquet shows pwrite64 at offsets reserved in turn by several threads, so a follower could send a hole's
  zeros), but by giving DuckDB a registered filesystem to write into (app/storage/streamed_output.py): DuckDB
  writes such a file in order, in ~8 MiB buffers, and each goes to the local copy and to the multipart writer.
  This is what the S3 job does now (Dec 2026). A/B on the same SeaweedFS, 1 GiB, 3 alternations: under load ~4,
  import then upload 9.5 / 16.0 / 14.9 s against streamed 8.5 / 8.8 / 13.4 s; on an idle machine 7.20 / 7.98 /
  7.03 s against 7.18 / 7.51 / 6.94 s (local 4.51-4.67 s). The upload left after the COPY takes 0.05 s instead of
  1.1-1.9 s, but the COPY takes as much longer (4.8 -> 6.0 s): the store's CPU for the parts now competes with
  DuckDB's on the same two cores, so it pays where a core would otherwise idle, not on an idle 2-core machine.

What bounds the ratio here, with the Parquet streamed (1 GiB, idle 2-core VM, Dec 2026): local 4.5 s and 8.3
CPU-s; S3 6.9-7.5 s, the job's CPU 9.8-10.3 s (download 0.7-0.8 of it) plus SeaweedFS's 3.2-3.7 (1.2-1.7 serving
the CSV, the rest taking the Parquet: three MD5 passes over every byte, found with perf and its source). 13 CPU-s
on two cores take at least 6.5 s, so no overlap brings the ratio past ~0.69 while the store shares the cores;
measured 0.61-0.65 (best of 3; 0.71 once under load ~3, where the local job suffered more).

Earlier (before streaming, 1 GiB, 2 cores): the import keeps both cores busy (~11.4 CPU-s in ~6.2 s),
and the S3 job adds ~4 CPU-s on the same cores, three of them SeaweedFS's: ~1 to serve the CSV (mostly kernel
copies between its volume server and S3 gateway) and 2.1-2.7 to take the 220 MiB of Parquet (57% of it MD5).
So S3 takes at least local + ~2.4 s (ratio ~0.72-0.73 on an idle machine); each job's server CPU per phase is
in `phases`. Wall-clock ratios swing 0.57-0.82 with the other load on the machine, the CPU ratio much less.
On a VM just booted (22 of 24 GB never touched) the download is what grows: 2.5-3.8 s and 2.1-2.9 client CPU-s
for the 1 GiB (each page-cache page is a first touch the host must back: 1.1 CPU-s per GiB written, against
0.2 right after a free), and the ratio was 0.45 (local 3.6 s, S3 8.0 s; Dec 2026, load ~1).

Why the S3 job's import phase often costs more CPU than the local job (9.3-9.7 against 8.5-8.9 CPU-s, medians of
3, Dec 2026): not its settings (both jobs run job_import with the same DuckDB threads, memory limit, spill and
output filesystem), nor obstore's threads (a file downloaded by another process costs the same: 9.7), but this
VM's memory. It is a Firecracker guest with free page reporting: pages freed a few seconds ago go back to the
host, and the next write to them pays the host's faults in the writer's CPU (a buffered 1 GiB write: 0.17 CPU-s
right after a free, 0.6-0.9 after 1-4 s, 1.5-2.5 after 8 s). perf on the import of a just-downloaded file:
clear_page_erms + copy_folio_from_iter_atomic 1.4 CPU-s against 0.1-0.2 on a file written long before. So the
download's client CPU (0.55-2.1 s per GiB) and the import after it swing with what was freed just before; each
round's local job here starts right after the S3 job's cache is deleted. A pause before each job (8 s, so
neither inherits freed pages) did not change the figures beyond the noise: CPU of the S3 job 9.2-10.7 against
8.8-10.6 back to back, local 8.3-9.7 against 8.2-10.3 (3 pairs, load 2-4), so the bench runs back to back.

On a day when the download cost 0.55-0.9 client CPU-s per GiB (Dec 5 2026, after a clean-clone `make test`,
load 0.8-1.9): 0.72, 0.72 and 0.74 in three runs (best of 2 rounds; rounds 0.64-0.74), local 5.83-6.09 s, S3
7.98-9.21 s, CPU ratio 0.69-0.70. The same code measured 0.57-0.63 on days when the download cost 1.7-1.9.

    python -m bench.storage_s3 [--mb 128] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench._ingest_data import env_int, log, make_csv, run_job
from bench._servers import figure

TARGET_RATIO = 0.7
TARGET_RSS_MB = 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storage_s3", description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=env_int("CONVEYOR_BENCH_S3_MB", 128), help="CSV size in MiB")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pipeline-rows", type=int, default=env_int("CONVEYOR_BENCH_S3_PIPELINE_ROWS", 10_000_000))
    args = parser.parse_args(argv)
    from tests.s3server import SeaweedS3

    tmp = Path(tempfile.mkdtemp(prefix="conveyor-bench-s3-", dir=os.environ.get("CONVEYOR_BENCH_TMP")))
    server = SeaweedS3()
    saved = dict(os.environ)
    os.environ.update(server.env())
    try:
        if args.mb:
            run(tmp, server.root_url(), megabytes=args.mb, rounds=max(1, args.rounds), server_pid=server.process.pid)
        if args.pipeline_rows:
            pipeline(tmp, server.root_url(), rows=args.pipeline_rows, rounds=max(1, args.rounds))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run(tmp: Path, data_root: str, *, megabytes: int, rounds: int, server_pid: int) -> None:
    """`server_pid`: the S3 server's process, whose CPU seconds each S3 job costs are counted (same 2 cores)."""
    from app.storage import store_for
    from app.storage.cache import LocalCache
    from bench._cpu import cpu_seconds

    source = tmp / "bench.csv"
    spill = tmp / "spill"
    spill.mkdir()
    rows = make_csv(source, megabytes)
    store = store_for(data_root)
    started, server_cpu = time.perf_counter(), cpu_seconds(server_pid)
    store.put_file("uploads/be/bench/data", source)  # what the API did when the file arrived
    log(
        f"storage_s3: {megabytes} MiB, {rows} rows; upload to S3 {time.perf_counter() - started:.1f} s, "
        f"server CPU {cpu_seconds(server_pid) - server_cpu:.1f} s"
    )
    local: list[dict] = []
    remote: list[dict] = []
    for round_ in range(rounds):
        out = tmp / "local-out"
        local.append(run_job("import", source=str(source), filename="bench.csv", out_dir=str(out), temp_dir=str(spill)))
        shutil.rmtree(out)
        cache = tmp / f"cache-{round_}"
        out = tmp / "s3-out"
        server_cpu = cpu_seconds(server_pid)
        remote.append(
            run_job(
                "import_s3",
                data_root=data_root,
                key="uploads/be/bench/data",
                filename="bench.csv",
                out_dir=str(out),
                temp_dir=str(spill),
                cache=str(cache),
                server_pid=server_pid,
            )
        )
        remote[-1]["server_cpu_s"] = round(cpu_seconds(server_pid) - server_cpu, 2)
        shutil.rmtree(out)
        shutil.rmtree(cache)
        log(
            f"storage_s3: round {round_ + 1} local {local[-1]['seconds']:.2f} s, s3 {remote[-1]['seconds']:.2f} s "
            f"{remote[-1]['phases']}, CPU s3 job {remote[-1]['cpu_s']:.1f} s "
            f"+ server {remote[-1]['server_cpu_s']:.1f} s, local job {local[-1]['cpu_s']:.1f} s; load average {_load()}"
        )
    best_local = min(r["seconds"] for r in local)
    best_remote = min(r["seconds"] for r in remote)
    figure("storage_s3.csv_import_local", best_local, "s", mib=megabytes, load=_load())
    figure(
        "storage_s3.csv_import_s3",
        best_remote,
        "s",
        ratio=best_local / best_remote,
        target=TARGET_RATIO,
        peak_rss_mb=max(r["peak_rss_mb"] for r in remote),
        rss_target=TARGET_RSS_MB,
        phases=",".join(f"{k}={v}" for k, v in min(remote, key=lambda r: r["seconds"])["phases"].items()),
        load=_load(),
    )
    # CPU seconds do not depend on what else the machine runs: the S3 job's own and the server's, against local
    local_cpu = min(r["cpu_s"] for r in local)
    remote_cpu = min(r["cpu_s"] + r["server_cpu_s"] for r in remote)
    figure(
        "storage_s3.csv_import_s3_cpu",
        remote_cpu,
        "cpu_s",
        ratio=local_cpu / remote_cpu,
        local_cpu_s=round(local_cpu, 2),
        server_cpu_s=min(r["server_cpu_s"] for r in remote),
        load=_load(),
    )
    parquet = "uploads/be/bench/data.parquet"
    size_mb = store.size(parquet) / 1024**2
    cache = LocalCache(tmp / "version-cache", 10 * 1024**3)
    started = time.perf_counter()
    cache.path(store, parquet)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    cache.path(store, parquet)
    warm = time.perf_counter() - started
    figure("storage_s3.version_cache_cold", cold * 1000, "ms", parquet_mib=round(size_mb, 1), load=_load())
    figure("storage_s3.version_cache_warm", warm * 1000, "ms", parquet_mib=round(size_mb, 1))


def pipeline(tmp: Path, data_root: str, *, rows: int, rounds: int) -> None:
    """The pipeline's whole path on a worker: inputs to local files, the pipeline, the output published."""
    from app.storage import store_for
    from app.storage.cache import LocalCache
    from bench.pipeline_steps import generate, ours

    store = store_for(data_root)
    work = tmp / "pipeline"
    work.mkdir()
    orders, customers = generate(work, rows)
    keys = {"orders": "datasets/or/orders/data.parquet", "customers": "datasets/cu/customers/data.parquet"}
    store.put_file(keys["orders"], orders)
    store.put_file(keys["customers"], customers)
    mib = round(store.size(keys["orders"]) / 1024**2, 1)
    times: dict[str, list[float]] = {"local": [], "cold": [], "warm": []}
    for round_ in range(rounds):
        seconds, rows_out = ours(work, orders, customers, round_)  # a local data root: in place, nothing to publish
        times["local"].append(seconds)
        cache = LocalCache(tmp / f"pipeline-cache-{round_}", 10 * 1024**3)
        for name in ("cold", "warm"):  # the first run fills this host's cache, the second finds it there
            started = time.perf_counter()
            inputs = {dataset: cache.path(store, key) for dataset, key in keys.items()}
            number = 100 + 2 * round_ + (name == "warm")  # ours() writes to work/ours-<number>/
            _, made = ours(work, inputs["orders"], inputs["customers"], number)
            store.put_file(f"datasets/ou/out-{name}-{round_}/data.parquet", work / f"ours-{number}" / "data.parquet")
            times[name].append(time.perf_counter() - started)
            assert made == rows_out, (made, rows_out)
        log(
            f"storage_s3: pipeline round {round_ + 1}: local {times['local'][-1]:.2f} s, "
            f"s3 cold {times['cold'][-1]:.2f} s, warm {times['warm'][-1]:.2f} s; load average {_load()}"
        )
    local = min(times["local"])
    figure("storage_s3.pipeline_local", local, "s", rows_in=rows, orders_mib=mib, load=_load())
    for name, target in (("cold", None), ("warm", 0.9)):
        best = min(times[name])
        figure(f"storage_s3.pipeline_s3_{name}", best, "s", ratio=local / best, target=target, load=_load())


def _load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
