"""The data root on S3 (a local SeaweedFS) against the local disk: CSV import and the version cache.

- CSV import: our import on a local file versus an import worker's whole path on S3 (the upload fetched into
  the host's cache, import_file, the Parquet uploaded), each in a fresh child process, alternately; the ratio
  local/S3 time (target >= 0.7) and the S3 child's peak RSS (target <= 1 GiB).
- The version cache a pipeline reads through: fetching the Parquet cold (downloaded) and warm (a cache hit).

Sizes are modest by default (`--mb 128`); the issue's figure is for 1 GiB (`--mb 1024`).

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
    args = parser.parse_args(argv)
    from tests.s3server import SeaweedS3

    tmp = Path(tempfile.mkdtemp(prefix="conveyor-bench-s3-", dir=os.environ.get("CONVEYOR_BENCH_TMP")))
    server = SeaweedS3()
    saved = dict(os.environ)
    os.environ.update(server.env())
    try:
        run(tmp, server.root_url(), megabytes=args.mb, rounds=max(1, args.rounds))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run(tmp: Path, data_root: str, *, megabytes: int, rounds: int) -> None:
    from app.storage import store_for
    from app.storage.cache import LocalCache

    source = tmp / "bench.csv"
    spill = tmp / "spill"
    spill.mkdir()
    rows = make_csv(source, megabytes)
    store = store_for(data_root)
    started = time.perf_counter()
    store.put_file("uploads/be/bench/data", source)  # what the API did when the file arrived
    log(f"storage_s3: {megabytes} MiB, {rows} rows; upload to S3 {time.perf_counter() - started:.1f} s")
    local: list[dict] = []
    remote: list[dict] = []
    for round_ in range(rounds):
        out = tmp / "local-out"
        local.append(run_job("import", source=str(source), filename="bench.csv", out_dir=str(out), temp_dir=str(spill)))
        shutil.rmtree(out)
        cache = tmp / f"cache-{round_}"
        out = tmp / "s3-out"
        remote.append(
            run_job(
                "import_s3",
                data_root=data_root,
                key="uploads/be/bench/data",
                filename="bench.csv",
                out_dir=str(out),
                temp_dir=str(spill),
                cache=str(cache),
            )
        )
        shutil.rmtree(out)
        shutil.rmtree(cache)
        log(
            f"storage_s3: round {round_ + 1} local {local[-1]['seconds']:.2f} s, s3 {remote[-1]['seconds']:.2f} s "
            f"{remote[-1]['phases']}; load average {_load()}"
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


def _load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
