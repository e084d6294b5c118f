"""The user commands cost the ops commands nothing at start: building the parser imports no HTTP library."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from app.cli import _parser
_parser()
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "rich") or m.startswith("app.client."))
print(",".join(loaded))
"""


def test_building_the_conveyor_parser_imports_neither_httpx_nor_rich_nor_the_client() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
