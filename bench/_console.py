"""What the console benchmarks share: the built console, Chromium, and the Node probe that drives it.

The probe (bench/console_probe.mjs) runs Debian's Chromium through playwright-core from
app/console/node_modules and answers one JSON object per line; the benchmark may send it "go".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench._processes import log

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "app" / "console"
DIST = CONSOLE / "dist"
PROBE = Path(__file__).resolve().parent / "console_probe.mjs"
CHROMIUM = Path("/usr/bin/chromium")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def require_console() -> None:
    """The build and the browser the console benchmarks need; say how to get what is missing."""
    missing = []
    if not (DIST / "index.html").is_file():
        missing.append("a console build (make console)")
    if not (CONSOLE / "node_modules" / "playwright-core").is_dir():
        missing.append("app/console/node_modules (cd app/console && npm ci)")
    if not CHROMIUM.exists():
        missing.append("/usr/bin/chromium (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("Node.js 20+")
    if missing:
        raise RuntimeError("the console benchmarks need " + ", ".join(missing))


class Probe:
    """One run of the Node probe in a mode; `read()` its next answer, `go()` to let it continue."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.process = subprocess.Popen(
            ["node", str(PROBE), json.dumps({"chromium": str(CHROMIUM), **config})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the browser probe ended without an answer (exit {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the browser probe failed: {answer['error']}")
        return answer

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log("the browser probe did not end; killing it")
            self.process.kill()
            self.process.wait()
