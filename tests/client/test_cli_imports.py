"""Import boundaries: the user commands cost the ops commands nothing; the client is REST only."""

from __future__ import annotations

import subprocess
import sys

PARSER = """
import sys
from app.cli import _parser
_parser()
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "rich") or m.startswith("app.client."))))
"""

CLIENT = """
import sys
import app.client, app.client_cli.runs, app.client_cli.datasets, app.client_cli.batch, app.client_cli.deployments
print(",".join(sorted(m for m in sys.modules if m.startswith(("app.api", "app.domain", "app.db", "workers")))))
"""


def loaded(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_building_the_conveyor_parser_imports_neither_httpx_nor_rich_nor_the_client() -> None:
    assert loaded(PARSER) == ""


def test_the_client_and_the_user_commands_import_nothing_of_the_server() -> None:
    assert loaded(CLIENT) == ""
