"""Archiving a pipeline stops its schedules: the pipeline took no new runs (a manual run or a trigger was 422
pipeline_not_found) while its deployments went on firing it every fire time, and their runs succeeded."""

from __future__ import annotations

from litestar.testing import TestClient


def test_archiving_a_pipeline_pauses_its_deployments_and_they_cannot_be_resumed(
    client: TestClient, pipeline: dict
) -> None:
    # Given two active deployments of a pipeline and a paused one
    schedule = {"kind": "interval", "seconds": 60}
    ids = []
    for name in ("every-minute", "hourly", "paused"):
        created = client.post("/api/v1/deployments", json={"name": name, "pipeline": "noop", "schedule": schedule})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    assert client.post(f"/api/v1/deployments/{ids[2]}/pause").status_code == 200

    # When the pipeline is archived
    archived = client.post(f"/api/v1/pipelines/{pipeline['id']}/archive")
    assert archived.status_code == 200, archived.text

    # Then every deployment of it is paused, with no fire time left to come
    for deployment_id in ids:
        deployment = client.get(f"/api/v1/deployments/{deployment_id}").json()
        assert (deployment["enabled"], deployment["next_run_at"]) == (False, None)
    # And each pause it made is in the audit log, saying why
    pauses = client.get("/api/v1/audit", params={"action": "deployments.pause"}).json()["items"]
    # (of these deployments: the audit log is not emptied between tests, and earlier ones paused theirs)
    reasons = {entry["resource_id"]: entry["details"].get("reason") for entry in pauses if entry["resource_id"] in ids}
    assert reasons == {ids[0]: "its pipeline was archived", ids[1]: "its pipeline was archived", ids[2]: None}

    # And a deployment of it cannot be resumed while the pipeline is archived
    resumed = client.post(f"/api/v1/deployments/{ids[0]}/resume")
    assert resumed.status_code == 409, resumed.text
    assert resumed.json()["code"] == "pipeline_archived"
    assert client.get(f"/api/v1/deployments/{ids[0]}").json()["enabled"] is False
