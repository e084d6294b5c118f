"""The console's generated API types match the API: a change to the API that breaks the console fails here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.api.openapi_document import openapi_json
from tests.console import CONSOLE, GENERATED_TYPES, NODE_BIN, require_node_tools


def test_committed_api_types_are_what_the_current_api_produces(tmp_path: Path) -> None:
    require_node_tools()
    document = tmp_path / "openapi.json"
    document.write_text(openapi_json(), encoding="utf-8")
    fresh = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(NODE_BIN / "openapi-typescript"), str(document), "-o", str(fresh)],
        cwd=CONSOLE,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert fresh.read_text(encoding="utf-8") == GENERATED_TYPES.read_text(encoding="utf-8"), (
        "app/console/src/api/schema.d.ts is out of date: run `npm run api:types` in app/console "
        "and fix the console where the types changed"
    )
