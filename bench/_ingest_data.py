"""Inputs of the ingest benchmarks (a mixed-type CSV, a 10-column xlsx) and the jobs they time in child processes.

A measured job runs in a fresh `python -m bench._ingest_data JOB ARGS` process that imports only what the job
needs, times the job itself, and reports its own peak RSS (VmHWM) as JSON on its last stdout line, so neither
the benchmark's process nor another job counts in that figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

#: DuckDB settings of an import job, as a worker on this 2-core machine runs it.
DUCKDB_MEMORY = os.environ.get("CONVEYOR_BENCH_DUCKDB_MEMORY", "512MB")
DUCKDB_THREADS = int(os.environ.get("CONVEYOR_BENCH_DUCKDB_THREADS", "2"))
HEADER = ["id", "customer_id", "amount", "quantity", "category", "city", "order_date", "updated_at", "active", "code"]
CATEGORIES = ["books", "games", "garden", "kitchen", "music", "outdoor", "sports", "toys"]
CITIES = [f"city_{k:03d}" for k in range(500)]
EXCEL_2020 = 43831  # serial number of 2020-01-01


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    times = os.times()
    return times.user + times.system


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def run_job(job: str, **kwargs: Any) -> dict[str, Any]:
    """Run one job in a fresh interpreter; its result, with `seconds` and `peak_rss_mb`."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "bench._ingest_data", job, json.dumps(kwargs)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"job {job} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- inputs

CSV_SELECT = """
SELECT i + 1 AS id,
       CAST(hash(i) % 100000 AS INTEGER) AS customer_id,
       CASE WHEN i % 17 = 0 THEN NULL ELSE CAST(hash(i * 3) % 1000000 AS DOUBLE) / 100 END AS amount,
       CAST(i % 50 AS INTEGER) AS quantity,
       ['books', 'games', 'garden', 'kitchen', 'music', 'outdoor', 'sports', 'toys'][1 + i % 8] AS category,
       'city_' || lpad(CAST(hash(i * 7) % 500 AS VARCHAR), 3, '0') AS city,
       DATE '2020-01-01' + CAST(i % 1800 AS INTEGER) AS order_date,
       TIMESTAMP '2020-01-01' + to_seconds(CAST(hash(i * 11) % 155000000 AS BIGINT)) AS updated_at,
       i % 3 = 0 AS active,
       CASE WHEN i % 5 = 0 THEN NULL ELSE substr(md5(CAST(i AS VARCHAR)), 1, 10) END AS code
FROM range({start}, {stop}) AS t(i)
"""


def make_csv(path: Path, megabytes: int) -> int:
    """Write a CSV of about `megabytes` MiB (ints, floats with nulls, short strings, dates, timestamps, booleans,
    strings with nulls); returns its data rows, sized from 100,000-row samples of the start and the middle."""
    import duckdb

    conn = duckdb.connect(config={"threads": DUCKDB_THREADS})
    try:
        conn.execute("SET enable_progress_bar = false")
        sample, rows = path.with_suffix(".sample.csv"), 0
        for _ in range(2):
            start = rows // 2
            conn.execute(f"COPY ({CSV_SELECT.format(start=start, stop=start + 100_000)}) TO '{sample}' (HEADER false)")
            rows = max(1, int(megabytes * 1024**2 * 100_000 / sample.stat().st_size))
        sample.unlink()
        conn.execute(f"COPY ({CSV_SELECT.format(start=0, stop=rows)}) TO '{path}' (HEADER true)")
    finally:
        conn.close()
    return rows


XLSX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'styles" Target="styles.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    # cellXfs: 0 general, 1 date (built-in format 14), 2 date and time (built-in format 22)
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
}
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<dimension ref="A1:J{last}"/><sheetData>'
)


def _code(i: int) -> str:
    return f"{(i * 2654435761) % (1 << 40):010x}"  # an odd multiplier modulo 2**40: unique per row


def make_xlsx(path: Path, rows: int) -> None:
    """Write a 10-column workbook of `rows` data rows as Excel does (shared strings, date styles, empty cells
    left out), streaming the sheet XML straight into the zip: a pure-Python writer takes minutes for this."""
    chunk = 50_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        fixed = [*HEADER, *CATEGORIES, *CITIES]  # shared strings: these first, then each row's code
        codes = rows - (rows + 4) // 5
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            head = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats'
                f'.org/spreadsheetml/2006/main" count="{len(fixed) + codes}" uniqueCount="{len(fixed) + codes}">'
            )
            out.write((head + "".join(f"<si><t>{text}</t></si>" for text in fixed)).encode())
            for start in range(0, rows, chunk):
                indexes = range(start, min(start + chunk, rows))
                out.write("".join(f"<si><t>{_code(i)}</t></si>" for i in indexes if i % 5).encode())
            out.write(b"</sst>")
        header = "".join(f'<c r="{chr(65 + k)}1" t="s"><v>{k}</v></c>' for k in range(len(HEADER)))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write((SHEET_HEAD.format(last=rows + 1) + f'<row r="1">{header}</row>').encode())
            for start in range(0, rows, chunk):
                out.write("".join(_xlsx_row(i) for i in range(start, min(start + chunk, rows))).encode())
            out.write(b"</sheetData></worksheet>")


def _xlsx_row(i: int) -> str:
    r = i + 2
    amount = f'<c r="C{r}"><v>{(i * 104729) % 1_000_000 / 100}</v></c>' if i % 17 else ""
    code = f'<c r="J{r}" t="s"><v>{518 + i - (i + 4) // 5}</v></c>' if i % 5 else ""
    stamp = EXCEL_2020 + (i * 7) % 1800 + (1 + (i * 37) % 86_399) / 86_400  # never midnight
    return (
        f'<row r="{r}"><c r="A{r}"><v>{i + 1}</v></c><c r="B{r}"><v>{(i * 7919) % 100_000}</v></c>{amount}'
        f'<c r="D{r}"><v>{i % 50}</v></c><c r="E{r}" t="s"><v>{10 + i % 8}</v></c>'
        f'<c r="F{r}" t="s"><v>{18 + (i * 31) % 500}</v></c><c r="G{r}" s="1"><v>{EXCEL_2020 + i % 1800}</v></c>'
        f'<c r="H{r}" s="2"><v>{stamp!r}</v></c><c r="I{r}" t="b"><v>{int(i % 3 == 0)}</v></c>{code}</row>'
    )


# --------------------------------------------------------------------------- jobs (run in the child)


def job_import(source: str, filename: str, out_dir: str, temp_dir: str, data_sink: Any = None) -> dict[str, Any]:
    """Our import_file, with the settings an import worker uses (and its S3 data root's sink, if given)."""
    from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_file

    settings = DuckDBSettings(memory_limit=DUCKDB_MEMORY, threads=DUCKDB_THREADS, temp_directory=temp_dir)
    started, cpu = time.perf_counter(), cpu_seconds()
    result = import_file(
        source,
        filename=filename,
        config=ImportConfig(),
        limits=ImportLimits(),
        out_dir=out_dir,
        duckdb_settings=settings,
        data_sink=data_sink,
    )
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    types = ",".join(f"{c.name}:{c.type}" for c in result.columns)
    return {"seconds": seconds, "cpu_s": cpu, "rows": result.rows, "rejected": result.rejected, "types": types}


def job_padded_scan(source: str) -> dict[str, Any]:
    """app.ingest.xlsx_padded.padded_cells of the first sheet, alone (bench.ingest_padded)."""
    from app.ingest.xlsx_padded import padded_cells

    started, cpu = time.perf_counter(), cpu_seconds()
    found = padded_cells(source, "xlsx", 0)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu_s": cpu, "columns": sorted(found.runs) if found else []}


def job_duckdb_copy(source: str, target: str, temp_dir: str) -> dict[str, Any]:
    """The CSV reference: DuckDB's own COPY (SELECT * FROM read_csv(...)) TO parquet, same memory and threads."""
    import duckdb

    conn = duckdb.connect(config={"threads": DUCKDB_THREADS, "memory_limit": DUCKDB_MEMORY, "temp_directory": temp_dir})
    started, cpu = time.perf_counter(), cpu_seconds()
    conn.execute(f"COPY (SELECT * FROM read_csv('{source}')) TO '{target}' (FORMAT parquet)")
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    rows = conn.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
    conn.close()
    return {"seconds": seconds, "cpu_s": cpu, "rows": rows[0] if rows else 0}


def job_calamine(source: str, target: str) -> dict[str, Any]:
    """The xlsx reference: python-calamine reads the sheet, pyarrow infers each column and writes Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import python_calamine

    started, cpu = time.perf_counter(), cpu_seconds()
    with python_calamine.CalamineWorkbook.from_path(source) as workbook:
        cells = workbook.get_sheet_by_index(0).to_python()
    arrays = []
    for values in zip(*cells[1:], strict=True):
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # empty cells come as "": None in a typed column
            arrays.append(pa.array([None if value == "" else value for value in values]))
    pq.write_table(pa.table(arrays, names=[str(name) for name in cells[0]]), target)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu_s": cpu, "rows": len(cells) - 1}


def job_pandas(source: str, target: str, nrows: list[int]) -> dict[str, Any]:
    """pandas.read_excel(engine="openpyxl") + to_parquet of the first `n` rows, for each n (a fresh read each)."""
    import pandas

    seconds = []
    for n in nrows:
        started = time.perf_counter()
        frame = pandas.read_excel(source, engine="openpyxl", nrows=n)
        frame.to_parquet(target)
        seconds.append(time.perf_counter() - started)
        if len(frame) != n:
            raise RuntimeError(f"pandas read {len(frame)} rows, not {n}")
        del frame
    return {"seconds": seconds}


def job_preview(source: str, filename: str, calls: int) -> dict[str, Any]:
    """Our preview (100 rows, default configuration), `calls` times in a row."""
    from app.ingest import ImportConfig, ImportLimits, preview

    seconds, result = [], None
    for _ in range(calls):
        started = time.perf_counter()
        result = preview(source, filename, ImportConfig(), ImportLimits())
        seconds.append(time.perf_counter() - started)
    assert result is not None
    return {"seconds": seconds, "rows": len(result.rows), "columns": len(result.columns)}


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def job_import_s3(
    data_root: str, key: str, filename: str, out_dir: str, temp_dir: str, cache: str, server_pid: int = 0
) -> dict[str, Any]:
    """An import worker's whole path on an S3 data root: the upload into this host's cache, the import into a
    scratch folder with its Parquet sent to the store as DuckDB writes it, the upload completed (the AWS_*
    variables come from the parent). `server_pid`: the S3 server's process, whose CPU is read at each phase's end
    too (it shares the machine's cores)."""
    from app.storage import store_for
    from app.storage.cache import LocalCache
    from app.storage.streamed_output import StreamedOutput
    from bench._cpu import cpu_seconds as process_cpu

    def server() -> float:
        return process_cpu(server_pid) if server_pid else 0.0

    started, cpu, server_cpu = time.perf_counter(), cpu_seconds(), server()
    store = store_for(data_root)
    source = LocalCache(Path(cache), 10 * 1024**3).path(store, key)
    fetched, fetch_cpu, fetch_server = time.perf_counter(), cpu_seconds(), server()
    with StreamedOutput(store, key + ".parquet") as sink:  # as workers/ingest_job.py
        result = job_import(str(source), filename, out_dir, temp_dir, data_sink=sink)
        imported, import_cpu, import_server = time.perf_counter(), cpu_seconds(), server()
    assert sink.streamed
    result["seconds"], result["cpu_s"] = time.perf_counter() - started, cpu_seconds() - cpu
    # where the time and the CPU go: the source fetched into the cache, the import (its Parquet sent as it is
    # written), the upload completed; this process's CPU, then the server's
    result["phases"] = {
        "download_s": round(fetched - started, 2),
        "import_s": round(imported - fetched, 2),
        "upload_s": round(time.perf_counter() - imported, 2),
        "download_cpu_s": round(fetch_cpu - cpu, 2),
        "import_cpu_s": round(import_cpu - fetch_cpu, 2),
        "upload_cpu_s": round(cpu_seconds() - import_cpu, 2),
    }
    if server_pid:
        result["phases"].update(
            download_server_cpu_s=round(fetch_server - server_cpu, 2),
            import_server_cpu_s=round(import_server - fetch_server, 2),
            upload_server_cpu_s=round(server() - import_server, 2),
        )
    return result


JOBS = {
    "import": job_import,
    "import_s3": job_import_s3,
    "duckdb_copy": job_duckdb_copy,
    "calamine": job_calamine,
    "pandas": job_pandas,
    "preview": job_preview,
    "padded_scan": job_padded_scan,
}


def warm_up() -> None:
    """What a long-running worker has already paid once: imports, and pyarrow's first conversion (which imports
    pandas when it is installed, about 2 s)."""
    import duckdb
    import pyarrow as pa

    import app.ingest  # noqa: F401

    pa.array([1.0])
    duckdb.connect().close()


if __name__ == "__main__":
    warm_up()
    outcome = JOBS[sys.argv[1]](**json.loads(sys.argv[2]))
    outcome["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(outcome), flush=True)
