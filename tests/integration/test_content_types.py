"""Every text response names its charset once: a Content-Type with a parameter twice is not one a strict parser
(Go's mime.ParseMediaType, which Prometheus 3 uses to pick its scrape format) takes, so /metrics failed to scrape."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from tests.integration.console_support import built, serve


def parameters(content_type: str) -> list[str]:
    """The names of a Content-Type's parameters, as written (lower case)."""
    return [part.split("=", 1)[0].strip().lower() for part in content_type.split(";")[1:]]


def assert_each_parameter_once(content_type: str) -> None:
    names = parameters(content_type)
    assert len(names) == len(set(names)), content_type
    assert "charset=utf-8" in content_type, content_type


def test_the_metrics_scrape_names_its_format_version_and_charset_once(anonymous: TestClient) -> None:
    content_type = anonymous.get("/metrics").headers["content-type"]
    assert_each_parameter_once(content_type)
    assert content_type.startswith("text/plain; version=0.0.4"), content_type


def test_console_pages_and_text_assets_name_their_charset_once(tmp_path: Path) -> None:
    dist = built(tmp_path)
    (dist / "assets" / "index-abc123.css").write_text("body { color: black }" * 100)
    with serve(dist) as client:
        for path in ("/", "/runs", "/assets/index-abc123.css", "/assets/index-abc123.js"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert_each_parameter_once(response.headers["content-type"])
    with serve(tmp_path / "nothing-built") as client:
        assert_each_parameter_once(client.get("/").headers["content-type"])
