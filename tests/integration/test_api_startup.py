"""What the API does once at startup, before serving its first request."""

from __future__ import annotations

from litestar.testing import TestClient

from app.ingest.convert import warm_up


def test_the_api_warms_pyarrow_up_at_startup_so_a_first_preview_is_not_charged_for_an_import(
    anonymous: TestClient,
) -> None:
    # pyarrow's first array of a Python list imports pandas when it is installed (seconds, more on a busy
    # machine); done inside a preview, that counted against the request's DuckDB time limit.
    assert warm_up in anonymous.app.on_startup
