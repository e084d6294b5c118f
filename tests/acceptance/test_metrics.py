"""The dashboard over HTTP with the real processes: runs the workers finish show up, folded into the rollup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.acceptance.harness import ConveyorSystem
from tests.acceptance.processes import wait_until


@pytest.mark.acceptance
def test_finished_runs_show_in_the_dashboard_once_the_scheduler_has_folded_them(system: ConveyorSystem) -> None:
    # Given a pipeline, five runs of it that succeed and two that fail
    since = datetime.now(UTC) - timedelta(seconds=1)
    pipeline = system.create_pipeline([{"type": "log", "message": "counted"}])
    failing = system.create_pipeline([{"type": "fail", "message": "nope"}])
    ok = [system.submit(pipeline["id"])["id"] for _ in range(5)]
    bad = [system.submit(failing["id"], max_retries=0)["id"] for _ in range(2)]
    system.wait_runs(ok, timeout=60, pipeline=pipeline["id"])
    system.wait_runs(bad, timeout=60, pipeline=failing["id"])
    window = {"from": since.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}

    # When the scheduler has folded them into the rollup (nothing left in its queue)
    def folded() -> bool:
        if "\nconveyor_rollup_backlog 0.0" not in system.http.get("/metrics").text:
            return False
        by_pipeline = system.http.get("/api/v1/metrics/breakdown", params={**window, "by": "pipeline"}).json()
        counts = {item["label"]: item["value"] for item in by_pipeline["items"]}
        return counts.get(pipeline["name"]) == 5 and counts.get(failing["name"]) == 2

    wait_until(folded, timeout=30, what="the finished runs in the breakdown")
    system.assert_healthy()

    # Then the summary, the failing ranking and Prometheus agree
    summary = system.http.get("/api/v1/metrics/summary", params=window).json()
    assert summary["runs_by_status"].get("SUCCEEDED", 0) >= 5
    assert summary["runs_by_status"].get("FAILED", 0) >= 2
    assert summary["metrics"]["duration_p95"] is not None
    slowest = system.http.get("/api/v1/metrics/slowest-pipelines", params=window).json()["items"]
    assert {pipeline["name"], failing["name"]} <= {item["label"] for item in slowest}
    scrape = system.http.get("/metrics").text
    assert 'conveyor_runs{kind="pipeline",status="FAILED"}' in scrape
