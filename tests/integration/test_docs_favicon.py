"""The docs page needs nothing from the internet: its favicon too comes from this server (its CSP allows no other)."""

from __future__ import annotations

import re

from litestar.testing import TestClient


def test_every_link_of_the_docs_page_is_served_here(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    icons = re.findall(r"""<link[^>]*rel=["']icon["'][^>]*href=["']([^"']+)["']""", page.text)
    assert icons, page.text
    for source in sources:
        assert not source.startswith(("http://", "https://", "//")), source
        assert client.get(source).status_code == 200, source


def test_a_docs_asset_path_no_file_can_have_is_a_404(client: TestClient) -> None:
    """A name too long for the file system, or a path under a file: Litestar's static files answered 500."""
    for path in ("/api/docs/assets/" + "a" * 300, "/api/docs/assets/swagger-ui.css/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
