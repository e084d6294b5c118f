"""What reading zero-padded number formats (app.ingest.xlsx_padded) costs a workbook import.

Writes the bench's workbook (bench._ingest_data.make_xlsx: `--rows` rows x 10 columns, no padding format), then
a copy whose styles add the number format 000000 and whose customer_id column (B, integers below 100,000) uses
it on every row. In fresh child processes, alternating, `--rounds` times each: `import_file` of both, and
`padded_cells` alone on both (the styles read; on the padded copy the streamed scan of the sheet XML).

    python -m bench.ingest_padded [--rows 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench._ingest_data import env_int, log, make_xlsx, run_job
from bench._servers import figure

#: The cellXfs index the copy adds (the bench's styles have three).
PADDED_STYLE = 3
_CUSTOMER_CELL = re.compile(rb'<c r="B(\d+)">')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_padded", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=env_int("CONVEYOR_BENCH_XLSX_ROWS", 1_000_000))
    parser.add_argument("--rounds", type=int, default=env_int("CONVEYOR_BENCH_INGEST_ROUNDS", 2))
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="conveyor-bench-padded-", dir=os.environ.get("CONVEYOR_BENCH_TMP")))
    try:
        run(tmp, rows=args.rows, rounds=max(1, args.rounds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def padded_copy(source: Path, dest: Path) -> None:
    """`source` with the format 000000 on every customer_id cell."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as new:
        for item in old.infolist():
            if item.filename == "xl/styles.xml":
                styles = old.read(item).decode()
                styles = styles.replace(
                    "<fonts", '<numFmts count="1"><numFmt numFmtId="164" formatCode="000000"/></numFmts><fonts', 1
                )
                styles = styles.replace('<cellXfs count="3">', '<cellXfs count="4">', 1).replace(
                    "</cellXfs>",
                    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>',
                    1,
                )
                new.writestr(item.filename, styles)
                continue
            with old.open(item) as src, new.open(item.filename, "w", force_zip64=True) as out:
                held = b""
                while chunk := src.read(1 << 20):
                    if item.filename == "xl/worksheets/sheet1.xml":  # no tag cut between chunks
                        chunk, cut = held + chunk, (held + chunk).rfind(b"<")
                        chunk, held = chunk[:cut], chunk[cut:]
                        chunk = _CUSTOMER_CELL.sub(rb'<c r="B\1" s="%d">' % PADDED_STYLE, chunk)
                    out.write(chunk)
                out.write(held)


def run(tmp: Path, *, rows: int, rounds: int) -> None:
    plain, padded = tmp / "plain.xlsx", tmp / "padded.xlsx"
    make_xlsx(plain, rows)
    padded_copy(plain, padded)
    spill = tmp / "duckdb_tmp"
    spill.mkdir()
    results: dict[str, list[dict[str, Any]]] = {"plain": [], "padded": [], "scan_plain": [], "scan_padded": []}
    for round_ in range(rounds):
        for name, source in (("plain", plain), ("padded", padded)):
            out = tmp / "out"
            done = run_job("import", source=str(source), filename="b.xlsx", out_dir=str(out), temp_dir=str(spill))
            shutil.rmtree(out)
            results[name].append(done)
            scan = run_job("padded_scan", source=str(source))
            results[f"scan_{name}"].append(scan)
            log(
                f"ingest_padded: round {round_ + 1} {name}: import {done['seconds']:.2f} s ({done['cpu_s']:.2f} s "
                f"CPU), padded_cells {scan['seconds']:.3f} s, columns {scan['columns']}"
            )
    types = {name: results[name][0]["types"] for name in ("plain", "padded")}
    if "customer_id:string" not in types["padded"] or "customer_id:integer" not in types["plain"]:
        raise RuntimeError(f"customer_id was not read as expected: {types}")
    best = {name: min(found, key=lambda r: r["cpu_s"]) for name, found in results.items()}
    for name in ("plain", "padded"):
        figure(
            f"ingest_padded.import_{name}",
            best[name]["seconds"],
            "s",
            cpu_s=best[name]["cpu_s"],
            padded_cells_s=best[f"scan_{name}"]["seconds"],
            padded_cells_cpu_s=best[f"scan_{name}"]["cpu_s"],
            rows=rows,
            note=f"best_of_{rounds}_by_cpu",
        )
    figure("ingest_padded.cpu_ratio", best["padded"]["cpu_s"] / best["plain"]["cpu_s"], "x", rows=rows)


if __name__ == "__main__":
    raise SystemExit(main())
