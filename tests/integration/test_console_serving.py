"""The API serves the built console at `/`: SPA fallback, long-cached hashed assets, a strict CSP, /api untouched."""

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


def test_every_console_path_is_index_html_under_a_strict_csp(tmp_path: Path) -> None:
    with serve(built(tmp_path)) as client:
        for path in ("/", "/runs/0191e0c0-0000-7000-8000-000000000000", "/dashboard?x=1"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert page.text == INDEX
            assert page.headers["cache-control"] == "no-cache"
            csp = page.headers["content-security-policy"]
            assert "script-src 'self';" in csp
            assert "unsafe-inline" not in csp
            assert "unsafe-eval" not in csp


def test_hashed_assets_are_cached_for_a_year_and_top_level_files_are_served(tmp_path: Path) -> None:
    with serve(built(tmp_path)) as client:
        asset = client.get("/assets/index-abc123.js")
        assert asset.status_code == 200
        assert asset.text == "console.log('hi')"
        assert "max-age=31536000" in asset.headers["cache-control"]
        assert "immutable" in asset.headers["cache-control"]
        assert client.get("/favicon.svg").headers["content-type"].startswith("image/svg+xml")
        assert client.get("/assets/missing-000.js").status_code == 404


def test_unknown_api_paths_stay_a_404_problem(tmp_path: Path) -> None:
    with serve(built(tmp_path)) as client:
        missing = client.get("/api/v1/no-such-thing")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "route_not_found"


def test_without_a_build_the_page_says_how_to_get_one(tmp_path: Path) -> None:
    with serve(tmp_path / "nothing") as client:
        page = client.get("/runs")
        assert page.status_code == 503
        assert "Node.js 20" in page.text
        assert "make run" in page.text
