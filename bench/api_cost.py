"""CPU the API process spends per request on inputs that grow, with the whole system running.

Starts `python -m app up` on its own database and reads the API process's CPU (utime + stime, /proc) around
each call:

- `preview`: an xlsx of 1000 x 1000 distinct strings (shared strings, as Excel writes them), uploaded through the
  resumable upload API, then previewed: the first preview (cuts and remembers the sheet's head) and the next ones
  (a configuration change each); one line per figure, CPU seconds of the API process per preview;
- `complete`: a --upload-mb file sent in order in 32 MB chunks, then completed; the CPU the completion costs the
  API process and its wall time, and GET /healthz latency (p50/p95/max) sampled while it runs: the event loop
  must stay free.

    python -m bench.api_cost [--only preview|complete] [--upload-mb 1024]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

from bench._conveyor import Conveyor
from bench._cpu import cpu_seconds, process_name
from bench._ingest_data import SHEET_HEAD, XLSX_PARTS
from bench._processes import _descendants, log
from bench._servers import BenchServers, figure, percentile

CHUNK = 32 << 20
CONFIG_CHANGES: list[dict[str, Any]] = [{"skip_rows": 1}, {"header_row": 1}, {"null_values": ["-"]}, {}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["preview", "complete"])
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--size", type=int, default=1000, help="rows and columns of the previewed sheet")
    args = parser.parse_args(argv)
    parts = [part for part in ("preview", "complete") if args.only in (None, part)]
    with BenchServers() as servers:
        conveyor = Conveyor(servers, workers=1, threads=1)
        try:
            conveyor.start(timeout=180)
            conveyor.authenticate()
            api = api_pid(conveyor)
            for part in parts:
                if part == "preview":
                    previews(conveyor, api, servers.tmp, args.size)
                else:
                    completion(conveyor, api, servers.tmp, args.upload_mb)
        finally:
            conveyor.stop()
    return 0


def api_pid(conveyor: Conveyor) -> int:
    assert conveyor.process is not None
    found = [pid for pid in _descendants(conveyor.process.pid) if process_name(pid) == "api"]
    if len(found) != 1:
        raise RuntimeError(f"expected one api process under `up`, found {found}")
    return found[0]


def distinct_strings_xlsx(path: Path, size: int) -> None:
    """A size x size sheet whose every cell is a shared string of its own."""
    cells = size * size
    letters = [_letters(c) for c in range(size)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats'
                f'.org/spreadsheetml/2006/main" count="{cells}" uniqueCount="{cells}">'.encode()
            )
            for r in range(size):
                out.write("".join(f"<si><t>r{r}c{c} text</t></si>" for c in range(size)).encode())
            out.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(SHEET_HEAD.replace("A1:J{last}", f"A1:{letters[-1]}{size}").encode())
            for r in range(size):
                row = "".join(f'<c r="{letters[c]}{r + 1}" t="s"><v>{r * size + c}</v></c>' for c in range(size))
                out.write(f'<row r="{r + 1}">{row}</row>'.encode())
            out.write(b"</sheetData></worksheet>")


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def send(conveyor: Conveyor, path: Path) -> str:
    """The file through the resumable upload API, in order, in CHUNK-sized chunks; the upload's id."""
    size = path.stat().st_size
    response = conveyor.http.post("/api/v1/uploads", json={"filename": path.name, "size": size})
    _ok(response, 201)
    upload_id = str(response.json()["id"])
    with path.open("rb") as file:
        for start in range(0, size, CHUNK):
            body = file.read(CHUNK)
            headers = {"content-range": f"bytes {start}-{start + len(body) - 1}/{size}"}
            _ok(conveyor.http.put(f"/api/v1/uploads/{upload_id}", content=body, headers=headers), 200)
    return upload_id


def complete(conveyor: Conveyor, api: int, upload_id: str, name: str) -> tuple[str, float, float]:
    """Complete the upload into a dataset: (its id, the API process's CPU seconds, wall seconds)."""
    cpu, began = cpu_seconds(api), time.perf_counter()
    response = conveyor.http.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": name}, timeout=600)
    _ok(response, 201)
    return str(response.json()["id"]), cpu_seconds(api) - cpu, time.perf_counter() - began


def upload(conveyor: Conveyor, api: int, path: Path, name: str) -> str:
    return complete(conveyor, api, send(conveyor, path), name)[0]


def previews(conveyor: Conveyor, api: int, tmp: Path, size: int) -> None:
    path = tmp / "distinct.xlsx"
    distinct_strings_xlsx(path, size)
    log(f"api_cost: {size} x {size} distinct-string xlsx, {path.stat().st_size >> 20} MB")
    dataset = upload(conveyor, api, path, "bench-distinct-xlsx")
    conveyor.http.post(f"/api/v1/datasets/{dataset}/preview", json={}, timeout=300)  # warms the lazy imports

    def cost(dataset: str, config: dict[str, Any]) -> tuple[float, int]:
        """The API's CPU seconds for one preview, and its status (past CONVEYOR_REQUEST_QUERY_SECONDS of wall time
        it is 422 query_too_expensive, but the CPU was spent all the same)."""
        before = cpu_seconds(api)
        response = conveyor.http.post(f"/api/v1/datasets/{dataset}/preview", json=config, timeout=300)
        if response.status_code not in (200, 422):
            _ok(response, 200)
        return cpu_seconds(api) - before, response.status_code

    # A second upload of the same bytes: its first preview cuts and remembers afresh (nothing is cached yet).
    first, status = cost(upload(conveyor, api, path, "bench-distinct-xlsx-2"), {})
    changes = [cost(dataset, config) for config in CONFIG_CHANGES]
    figure("api_cost.xlsx_first_preview_cpu", first, "s", status=status, cells=size * size, shown_cells=100 * size)
    figure(
        "api_cost.xlsx_preview_cpu",
        statistics.median(c for c, _ in changes),
        "s",
        worst_s=round(max(c for c, _ in changes), 3),
        statuses="/".join(str(s) for _, s in changes),
        cells=size * size,
        shown_cells=100 * size,
    )


def completion(conveyor: Conveyor, api: int, tmp: Path, megabytes: int) -> None:
    path = tmp / "big.csv"
    with path.open("wb") as out:
        line = b"".join(b"%08d,some text for the row,%d.5\n" % (i, i) for i in range(1 << 14))
        while out.tell() < megabytes << 20:
            out.write(line)
    stop = threading.Event()
    latencies: list[float] = []

    def probe() -> None:
        with httpx.Client(base_url=str(conveyor.http.base_url), timeout=30) as client:
            while not stop.is_set():
                began = time.perf_counter()
                client.get("/healthz")
                latencies.append((time.perf_counter() - began) * 1000)
                time.sleep(0.05)

    upload_id = send(conveyor, path)
    prober = threading.Thread(target=probe)
    prober.start()
    time.sleep(0.5)
    try:
        _, spent, wall = complete(conveyor, api, upload_id, "bench-big-upload")
    finally:
        stop.set()
        prober.join()
    figure("api_cost.upload_complete_cpu", spent, "s", megabytes=megabytes, wall_s=round(wall, 3))
    figure(
        "api_cost.healthz_during_complete_p95",
        percentile(latencies, 95),
        "ms",
        p50_ms=round(percentile(latencies, 50), 2),
        max_ms=round(max(latencies), 2),
        samples=len(latencies),
    )


def _ok(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text[:500]}"
        )


if __name__ == "__main__":
    sys.exit(main())
