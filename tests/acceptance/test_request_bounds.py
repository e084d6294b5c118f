"""Validation in the real API process: drafts are bound in a child process, and a huge scan is never run."""

from __future__ import annotations

import pytest

from tests.acceptance.harness import ConveyorSystem

pytestmark = pytest.mark.acceptance


@pytest.mark.timeout(180)
def test_the_api_validates_a_huge_scan_and_refuses_a_settings_leak(system: ConveyorSystem) -> None:
    huge = "select count(*) as n from range(1000000000000) t(i) where i % 7 = 3"
    ok = system.http.post("/api/v1/pipelines/validate", json={"spec": {"steps": [{"type": "sql", "sql": huge}]}})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["valid"], [c["name"] for c in ok.json()["output_columns"]]) == (True, ["n"])
    leak = "select current_setting('allowed_paths') as p"
    refused = system.http.post("/api/v1/pipelines/validate", json={"spec": {"steps": [{"type": "sql", "sql": leak}]}})
    assert refused.status_code == 200, refused.text
    assert [e["code"] for e in refused.json()["errors"]] == ["sandbox_violation"]
    system.assert_healthy()
