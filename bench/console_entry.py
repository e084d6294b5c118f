"""JavaScript the sign-in page loads before it is usable: the sum of gzipped sizes (target ≤ 250 KB).

Opens /sign-in in Chromium against the real stack, records every script it loaded by the time the
form can be used, and sums each file's gzip size (level 6, as `vite build` reports it) from the
build in app/console/dist. Also prints the bytes actually transferred, which with brotli
precompression (app/api/console_assets.py) are smaller again.

    python -m bench.console_entry
"""

from __future__ import annotations

import argparse
import gzip
import sys

from bench._console import DIST, Probe, load_average, require_console
from bench._conveyor import Conveyor
from bench._processes import log
from bench._servers import BenchServers, figure

TARGET_KB = 250.0


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bench.console_entry", description=__doc__.split("\n")[0]).parse_args(argv)
    require_console()
    with BenchServers() as servers:
        conveyor = Conveyor(servers, workers=1, threads=1)
        try:
            conveyor.start(timeout=180)
            probe = Probe({"mode": "entry", "url": str(conveyor.http.base_url).rstrip("/")})
            try:
                answer = probe.read()
            finally:
                probe.close()
        finally:
            conveyor.stop()
    scripts = [path for path in answer["scripts"] if path.startswith("/assets/")]
    gzipped = {path: len(gzip.compress((DIST / path.lstrip("/")).read_bytes(), 6)) for path in scripts}
    raw = sum((DIST / path.lstrip("/")).stat().st_size for path in scripts)
    total_kb = sum(gzipped.values()) / 1024
    wire_kb = sum(entry["transfer"] for entry in answer["wire"]) / 1024
    for path, size in sorted(gzipped.items(), key=lambda item: -item[1]):
        log(f"console_entry: {path} {size / 1024:.1f} KB gzipped")
    figure(
        "console.entry_js_gzipped",
        total_kb,
        "KB",
        ratio_to_target=round(total_kb / TARGET_KB, 3),
        target_kb=TARGET_KB,
        files=len(scripts),
        raw_kb=round(raw / 1024, 1),
        on_the_wire_kb=round(wire_kb, 1),
        usable_ms=answer["usable_ms"],
        load=load_average(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
