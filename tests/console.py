"""Where the console's sources and tools are, and whether Node.js can build them here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[1] / "app" / "console"
NODE_BIN = CONSOLE / "node_modules" / ".bin"
GENERATED_TYPES = CONSOLE / "src" / "api" / "schema.d.ts"


def require_node_tools() -> None:
    """Skip without Node.js (the console is optional there); fail if Node is here but `npm ci` was not run."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the console is not built or tested")
    major = int(
        subprocess.run([node, "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True).stdout
    )
    if major < 20:
        pytest.skip(f"Node.js {major} is older than 20: the console is not built or tested")
    assert NODE_BIN.is_dir(), "run `make console` (npm ci in app/console) first"
