"""HEAD answers every GET route with the GET's status and headers and no body, as load balancers expect."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_

#: Headers that differ between two answers to the same request by design.
_PER_REQUEST = {"x-request-id", "date"}


def same_head(head, get) -> None:  # type: ignore[no-untyped-def]
    assert (head.status_code, head.content) == (get.status_code, b"")
    assert {k: v for k, v in head.headers.items() if k not in _PER_REQUEST} == {
        k: v for k, v in get.headers.items() if k not in _PER_REQUEST
    }


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/healthz", "/readyz", "/api/v1/readyz"])
def test_probes_answer_head_as_get_without_a_body(anonymous: TestClient, path: str) -> None:
    head, get = anonymous.head(path), anonymous.get(path)
    assert head.status_code == 200, head.text
    same_head(head, get)
    assert int(head.headers["content-length"]) == len(get.content)


def test_head_needs_the_same_sign_in_as_get(anonymous: TestClient) -> None:
    refused = anonymous.head("/api/v1/runs")
    assert (refused.status_code, refused.content) == (401, b"")
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_head_on_a_path_without_get_is_405_and_allow_names_head_where_get_is(anonymous: TestClient) -> None:
    assert anonymous.head("/api/v1/auth/login").status_code == 405
    refused = anonymous.delete("/healthz")
    assert refused.status_code == 405
    assert {m.strip() for m in refused.headers["allow"].split(",")} >= {"GET", "HEAD"}


def test_downloads_answer_head_with_their_headers(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])
    base = f"/api/v1/datasets/{dataset['id']}/download"
    for format_ in ("raw", "parquet", "csv", "json"):
        head, get = client.head(base, params={"format": format_}), client.get(base, params={"format": format_})
        assert head.status_code == 200, (format_, head.text)
        same_head(head, get)
        assert "attachment" in head.headers["content-disposition"]
    raw = client.head(base, params={"format": "raw"})
    assert int(raw.headers["content-length"]) == len(SALES)


def _requests_counted(metrics: str, method: str, path: str) -> float:
    """The request counter of one method on one route template, from the Prometheus text."""
    pattern = (
        rf'^conveyor_api_requests_total\{{(?=[^}}]*method="{method}")(?=[^}}]*path="{re.escape(path)}")[^}}]*\}} (\S+)$'
    )
    return sum(float(m) for m in re.findall(pattern, metrics, flags=re.MULTILINE))


def test_a_head_is_counted_in_the_request_metrics_as_head(anonymous: TestClient) -> None:
    """It was counted as GET (the route that answered it), so HEAD probes inflated the GET figures."""
    before = anonymous.get("/metrics").text
    for _ in range(3):
        assert anonymous.head("/api/v1/healthz").status_code == 200
    after = anonymous.get("/metrics").text
    assert (
        _requests_counted(after, "HEAD", "/api/v1/healthz") - _requests_counted(before, "HEAD", "/api/v1/healthz") == 3
    )
    assert _requests_counted(after, "GET", "/api/v1/healthz") == _requests_counted(before, "GET", "/api/v1/healthz")
