"""The API serves the built console at `/`: SPA fallback, long-cached hashed assets, a strict CSP, /api untouched."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.integration.console_support import INDEX, built, serve


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


BIG_JS = "export const words = [" + ",".join(f"'word{i}'" for i in range(2000)) + "];\n"


def test_assets_are_sent_precompressed_in_the_best_coding_the_browser_accepts(tmp_path: Path) -> None:
    dist = built(tmp_path)
    asset = dist / "assets" / "app-def456.js"
    asset.write_text(BIG_JS)
    # What the vite build writes beside each asset; distinct bodies prove which file was sent.
    (dist / "assets" / "app-def456.js.br").write_bytes(b"brotli body")
    (dist / "assets" / "app-def456.js.gz").write_bytes(gzip.compress(BIG_JS.encode()))
    with serve(dist) as client:
        br = client.get("/assets/app-def456.js", headers={"accept-encoding": "gzip, deflate, br"})
        assert br.status_code == 200
        assert br.headers["content-encoding"] == "br"
        assert br.headers["vary"] == "Accept-Encoding"
        assert "immutable" in br.headers["cache-control"]
        assert br.headers["content-type"].startswith("text/javascript")
        assert br.content == b"brotli body"  # the .br file as it is (httpx cannot decode brotli here)

        gz = client.get("/assets/app-def456.js", headers={"accept-encoding": "gzip, br;q=0"})
        assert gz.headers["content-encoding"] == "gzip"
        assert gz.text == BIG_JS  # decoded by the client

        plain = client.get("/assets/app-def456.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.text == BIG_JS

        # The precompressed siblings are not assets of their own.
        assert client.get("/assets/app-def456.js.gz").status_code == 404


def test_a_build_without_precompressed_files_still_gets_gzip_and_small_files_go_plain(tmp_path: Path) -> None:
    dist = built(tmp_path)
    (dist / "assets" / "app-def456.js").write_text(BIG_JS)
    with serve(dist) as client:
        big = client.get("/assets/app-def456.js", headers={"accept-encoding": "gzip"})
        assert big.headers["content-encoding"] == "gzip"
        assert int(big.headers["content-length"]) < len(BIG_JS) // 3
        assert big.text == BIG_JS
        small = client.get("/assets/index-abc123.js", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in small.headers  # below 1 KB compression does not pay
        assert small.text == "console.log('hi')"


def test_the_console_build_writes_brotli_and_gzip_siblings() -> None:
    """The real build's assets have .br and .gz siblings that decode to the asset (when a build exists)."""
    assets = Path(__file__).resolve().parents[2] / "app" / "console" / "dist" / "assets"
    scripts = sorted(assets.glob("*.js")) if assets.is_dir() else []
    large = [script for script in scripts if script.stat().st_size >= 1024]
    if not large:
        pytest.skip("no console build here (make console)")
    script = max(large, key=lambda file: file.stat().st_size)
    assert gzip.decompress(script.with_name(script.name + ".gz").read_bytes()) == script.read_bytes()
    assert script.with_name(script.name + ".br").stat().st_size < script.stat().st_size // 2


def test_a_name_no_file_can_have_is_a_404_asset_or_a_console_page(tmp_path: Path) -> None:
    """Longer than the file system allows: stat raised OSError (ENAMETOOLONG) and the route answered 500."""
    with serve(built(tmp_path)) as client:
        response = client.get("/assets/" + "a" * 300 + ".js")
        assert (response.status_code, response.json()["code"]) == (404, "asset_not_found")
        assert client.get("/" + "a" * 300).text == INDEX  # a console page, as any other path
