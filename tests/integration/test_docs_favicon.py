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
