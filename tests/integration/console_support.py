"""A built console on disk and the router that serves it, for the tests of what the console's pages answer."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from app.api.console import console_router
from app.api.errors import EXCEPTION_HANDLERS
from app.api.headers import add_response_headers

INDEX = '<!doctype html><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script>'


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('hi')")
    (dist / "favicon.svg").write_text("<svg/>")
    return dist


def serve(dist: Path) -> TestClient:
    return TestClient(
        app=Litestar(
            route_handlers=[console_router(dist)],
            before_send=[add_response_headers],
            exception_handlers=EXCEPTION_HANDLERS,
        )
    )
