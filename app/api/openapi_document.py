"""Write the API's OpenAPI document without a running server, for the console's generated types.

Building the app opens no connection (the engine and Redis clients connect lazily), so placeholder
URLs are enough; `python -m app.api.openapi_document [PATH]` writes stable, sorted JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.api.app import create_app
from app.api.openapi import openapi_document as finished_document
from app.settings import Settings

#: Never contacted: the document is built from the route handlers alone.
PLACEHOLDER = Settings(database_url="postgresql+psycopg://openapi@127.0.0.1:9/none", redis_url="redis://127.0.0.1:9/0")


def openapi_document() -> dict[str, Any]:
    """The document exactly as GET /api/docs/openapi.json serves it."""
    return finished_document(create_app(PLACEHOLDER)).to_schema()


def openapi_json() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    text = openapi_json()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
