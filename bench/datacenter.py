"""Data center speed (issue 14) at the API, with the system running: xlsx preview refresh and filtered row pages.

Starts the whole system (`python -m app up`) on its own database and times, over HTTP (the call the
console's page makes and waits for; the browser adds only the table's render of ≤ 100 rows):

- preview refresh after a configuration change on a 1,000,000-row x 10-column xlsx (the workbook of
  bench.ingest_xlsx, uploaded through the resumable upload API): the first preview, then one call
  per changed configuration (skip rows, header row, null values, a range, lenient); target ≤ 2 s each;
- a page of rows with a filter over a 10,000,000-row dataset (a CSV written by DuckDB, uploaded and
  imported by a worker): GET /datasets/{id}/rows with `filter=` on a string and on a number column,
  sorted and not, first page and a deep one; target ≤ 500 ms each (p95 over --calls). A sorted case's
  first call starts the API writing a sorted copy of the version; the timed calls come once it is written
  (its time and the first, sorting call's are reported beside the case). Then the same filter in the
  console in Chromium: Filter pressed on the dataset page until the table shows the filtered rows.

    python -m bench.datacenter [--xlsx-rows 1000000] [--rows 10000000] [--calls 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from bench._console import Probe, load_average, require_console
from bench._conveyor import Conveyor
from bench._ingest_data import env_int, make_xlsx
from bench._processes import log
from bench._servers import BenchServers, figure, percentile

TARGET_PREVIEW_S = 2.0
TARGET_ROWS_MS = 500.0
CHUNK = 32 << 20
CONFIG_CHANGES: dict[str, dict[str, Any]] = {
    "skip_rows": {"skip_rows": 10},
    "header_row": {"header_row": 1, "skip_rows": 2},
    "null_values": {"null_values": ["", "NA", "-"]},
    "range": {"range": "A1:F5000"},
    "lenient": {"on_error": "lenient"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.datacenter", description=__doc__.split("\n")[0])
    parser.add_argument("--xlsx-rows", type=int, default=env_int("CONVEYOR_BENCH_XLSX_ROWS", 1_000_000))
    parser.add_argument("--rows", type=int, default=env_int("CONVEYOR_BENCH_DATASET_ROWS", 10_000_000))
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--only", choices=["preview", "rows"], help="run one of the two parts")
    args = parser.parse_args(argv)
    with BenchServers() as servers:
        conveyor = Conveyor(servers, workers=1, threads=1)
        try:
            conveyor.start(timeout=180)
            conveyor.authenticate()
            if args.only != "rows":
                previews(conveyor, servers.tmp, args.xlsx_rows)
            if args.only != "preview":
                row_pages(conveyor, servers.tmp, args.rows, args.calls)
        finally:
            conveyor.stop()
    return 0


def upload(conveyor: Conveyor, path: Path, name: str) -> str:
    """The file through the resumable upload API in 32 MB chunks; returns the new dataset's id."""
    size = path.stat().st_size
    response = conveyor.http.post("/api/v1/uploads", json={"filename": path.name, "size": size})
    _ok(response, 201)
    upload_id = response.json()["id"]
    with path.open("rb") as file:
        for start in range(0, size, CHUNK):
            body = file.read(CHUNK)
            end = start + len(body) - 1
            response = conveyor.http.put(
                f"/api/v1/uploads/{upload_id}",
                content=body,
                headers={"content-range": f"bytes {start}-{end}/{size}", "content-type": "application/octet-stream"},
            )
            _ok(response, 200)
    response = conveyor.http.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": name}, timeout=600)
    _ok(response, 201)
    return str(response.json()["id"])


def previews(conveyor: Conveyor, tmp: Path, rows: int) -> None:
    path = tmp / "orders.xlsx"
    started = time.perf_counter()
    make_xlsx(path, rows)
    log(
        f"datacenter: {rows} row xlsx ({path.stat().st_size >> 20} MB) written in {time.perf_counter() - started:.0f} s"
    )
    dataset = upload(conveyor, path, "bench-orders-xlsx")

    def preview(config: dict[str, Any]) -> float:
        began = time.perf_counter()
        response = conveyor.http.post(f"/api/v1/datasets/{dataset}/preview", json=config, timeout=120)
        _ok(response, 200)
        if not response.json()["rows"]:
            raise RuntimeError(f"the preview with {config} has no rows")
        return time.perf_counter() - began

    # The API process's first xlsx preview imports what the readers import lazily (pandas, via pyarrow);
    # that is paid once per process, so a small workbook takes it before the timed calls.
    small = tmp / "warm.xlsx"
    make_xlsx(small, 1_000)
    warm = upload(conveyor, small, "bench-warm-xlsx")
    for _ in range(3):  # under a heavy load the import alone may pass the API's 10 s query limit once
        response = conveyor.http.post(f"/api/v1/datasets/{warm}/preview", json={}, timeout=120)
        if response.status_code == 200:
            break
    began = time.perf_counter()
    for attempt in range(1, 4):  # the first cut of the sheet may pass the 10 s query limit under a heavy load
        response = conveyor.http.post(f"/api/v1/datasets/{dataset}/preview", json={}, timeout=120)
        if response.status_code == 200:
            break
        log(f"datacenter: first preview attempt {attempt} answered {response.status_code}")
    _ok(response, 200)
    first = time.perf_counter() - began
    changed = {name: preview(config) for name, config in CONFIG_CHANGES.items()}
    worst = max(changed.values())
    figure(
        "datacenter.xlsx_preview_refresh",
        statistics.median(changed.values()),
        "s",
        ratio_to_target=round(worst / TARGET_PREVIEW_S, 3),
        target_s=TARGET_PREVIEW_S,
        worst_s=round(worst, 3),
        first_preview_s=round(first, 3),
        rows=rows,
        measured="HTTP preview call",
        load=load_average(),
    )
    log("datacenter: preview per change (s) " + ", ".join(f"{k}={v:.3f}" for k, v in changed.items()))


def row_pages(conveyor: Conveyor, tmp: Path, rows: int, calls: int) -> None:
    path = tmp / "events.csv"
    started = time.perf_counter()
    duckdb.sql(
        f"""COPY (SELECT i AS id, 'c' || (i % 50) AS category, (i * 7919) % 100000 / 100.0 AS amount,
                   DATE '2024-01-01' + CAST(i % 1000 AS INTEGER) AS day, 'note ' || (i % 997) AS note
            FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )
    log(f"datacenter: {rows} row CSV ({path.stat().st_size >> 20} MB) in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    dataset = upload(conveyor, path, "bench-events")
    response = conveyor.http.post(f"/api/v1/datasets/{dataset}/imports", json={})
    _ok(response, 202)
    run_id = response.json()["id"]
    deadline = time.monotonic() + 1800
    while True:
        status = conveyor.http.get(f"/api/v1/runs/{run_id}").json()["status"]
        if status == "SUCCEEDED":
            break
        if status in {"FAILED", "CANCELLED", "TIMED_OUT"} or time.monotonic() > deadline:
            raise RuntimeError(f"the import of {rows} rows ended {status}")
        conveyor.check_alive()
        time.sleep(1)
    log(f"datacenter: uploaded and imported in {time.perf_counter() - started:.0f} s")
    cases: dict[str, dict[str, Any]] = {
        "eq_string": {"filter": "category:eq:c7"},
        "gt_number_sorted": {"filter": "amount:gt:990", "order_by": "-amount"},
        "eq_string_deep_page": {"filter": "category:eq:c7", "offset": 100_000},
        "eq_string_sorted_deep_page": {"filter": "category:eq:c7", "order_by": "day", "offset": 10_000},
        "two_filters": {"filter": ["category:eq:c7", "amount:lt:10"]},
    }
    copies = conveyor.data_root / "tmp" / "sorted"
    for name, params in cases.items():
        times = []
        written = len(list(copies.glob("*.parquet")))
        for _ in range(calls + 1):
            began = time.perf_counter()
            response = conveyor.http.get(f"/api/v1/datasets/{dataset}/rows", params={"limit": 100, **params})
            if times or "order_by" not in params or response.status_code != 422:
                _ok(response, 200)  # the first sorted call sorts the whole version: it may pass the query limit
            times.append((time.perf_counter() - began) * 1000)
            if len(times) == 1 and "order_by" in params:
                sorted_first_ms, copy_s = times[0], _sorted_copy_written(conveyor, copies, written)
        times = times[1:]  # the first call opens the file (and, sorted, starts writing the sorted copy)
        extra = {"sorted_first_ms": round(sorted_first_ms, 1), "copy_written_s": copy_s} if "order_by" in params else {}
        p95 = percentile(times, 95)
        figure(
            f"datacenter.rows_10m.{name}.p95",
            p95,
            "ms",
            ratio_to_target=round(p95 / TARGET_ROWS_MS, 3),
            target_ms=TARGET_ROWS_MS,
            p50_ms=round(percentile(times, 50), 1),
            total=response.json()["total"],
            calls=calls,
            load=load_average(),
            **extra,
        )
    rows_in_browser(conveyor, dataset, calls)


def rows_in_browser(conveyor: Conveyor, dataset: str, calls: int) -> None:
    """The same filtered page as the console shows it: Filter pressed in Chromium until the table has the rows."""
    require_console()
    probe = Probe(
        {
            "mode": "rows",
            "url": str(conveyor.http.base_url).rstrip("/"),
            "user": "admin",
            "password": conveyor.admin_password,
            "datasetId": dataset,
            "column": "category",
            "values": ["c7", "c8", "c9"],
            "repeats": calls + 1,
        }
    )
    try:
        times = probe.read()["times"][1:]  # the first press opens the page's first filtered query
    finally:
        probe.close()
    p95 = percentile(times, 95)
    figure(
        "datacenter.rows_10m.browser_filter.p95",
        p95,
        "ms",
        ratio_to_target=round(p95 / TARGET_ROWS_MS, 3),
        target_ms=TARGET_ROWS_MS,
        p50_ms=round(percentile(times, 50), 1),
        calls=len(times),
        measured="Filter click event to the first frame showing the rows, Chromium",
        load=load_average(),
    )


def _sorted_copy_written(conveyor: Conveyor, copies: Path, before: int) -> float:
    """Seconds until the API has written the sorted copy the first sorted call started (app.domain.sorted_copies);
    until then sorted pages sort the whole version per request, as the `sorted_first_ms` figure shows."""
    began = time.perf_counter()
    while len(list(copies.glob("*.parquet"))) <= before:
        if time.perf_counter() - began > 900:
            raise RuntimeError("the sorted copy was not written within 15 minutes")
        conveyor.check_alive()
        time.sleep(0.5)
    return round(time.perf_counter() - began, 1)


def _ok(response: Any, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )


if __name__ == "__main__":
    sys.exit(main())
