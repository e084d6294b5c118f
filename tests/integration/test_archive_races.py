"""Archiving a pipeline while another request archives it, or resumes one of its deployments: each change is
decided under the rows' locks, so the second one sees what the first committed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from litestar.testing import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound
from app.domain import deployment_actions, pipeline_versions
from app.domain.audit import AuditContext
from app.domain.deployment_documents import DeploymentPatch
from app.domain.permissions import Permission
from app.domain.pipelines import pipeline_for
from app.scheduling.spec import IntervalSpec
from app.settings import Settings
from tests.integration.engine_parts import ROOT
from tests.integration.helpers import wait_until_blocked

AS_ROOT = AuditContext(principal=ROOT)


def _archive(session: Session, pipeline_id: str) -> None:
    """What POST /pipelines/{id}/archive does in its transaction."""
    pipeline = pipeline_for(session, pipeline_id, "default", ROOT, Permission.PIPELINES_WRITE)
    pipeline_versions.archive(session, pipeline, audit_as=AS_ROOT)


def _second_waits_for_first(
    engine: Engine, first: Callable[[Session], None], second: Callable[[Session], None]
) -> BaseException | None:
    """`first` done in a transaction left open until `second`, on another connection, waits for one of its locks;
    then `first` commits. What the second raised (its transaction rolled back), if anything."""
    with engine.connect() as one, engine.connect() as two:
        pid = two.execute(text("SELECT pg_backend_pid()")).scalar_one()
        one.execute(text("SELECT 1"))  # the transactions the sessions join, begun by the test, ended by it
        with Session(bind=one) as session:
            first(session)
            session.flush()

        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(_in_transaction, two, second)
            try:
                wait_until_blocked(engine, pid, "the second request")
            finally:
                one.commit()
            return waiting.result(timeout=30)


def _in_transaction(connection: Connection, action: Callable[[Session], None]) -> BaseException | None:
    """`action` in one transaction, committed; rolled back and returned if it raised."""
    with Session(bind=connection) as session:
        try:
            action(session)
            session.flush()
        except Exception as exc:
            connection.rollback()
            return exc
    connection.commit()
    return None


def _resume(session: Session, deployment_id: str) -> None:
    """What POST /deployments/{id}/resume does in its transaction."""
    deployment_actions.resume(session, uuid.UUID(deployment_id), ROOT, audit_as=AS_ROOT)


def _paused_deployment(client: TestClient) -> str:
    schedule = {"kind": "interval", "seconds": 60}
    created = client.post("/api/v1/deployments", json={"name": "minutely", "pipeline": "noop", "schedule": schedule})
    assert created.status_code == 201, created.text
    assert client.post(f"/api/v1/deployments/{created.json()['id']}/pause").status_code == 200
    return str(created.json()["id"])


def _audited(client: TestClient, action: str, resource_id: str) -> list[dict]:
    items = client.get("/api/v1/audit", params={"action": action, "resource_id": resource_id}).json()["items"]
    return list(items)


def test_a_pipeline_archived_twice_at_once_is_archived_once(client: TestClient, engine: Engine, pipeline: dict) -> None:
    """Both archives answered 200: the second overwrote the archive time and wrote a second audit entry."""
    raised = _second_waits_for_first(
        engine, lambda s: _archive(s, pipeline["id"]), lambda s: _archive(s, pipeline["id"])
    )
    assert isinstance(raised, NotFound), raised
    assert raised.code == "pipeline_not_found"
    assert len(_audited(client, "pipelines.archive", pipeline["id"])) == 1
    # the same answer as an archive asked after the first one
    again = client.post(f"/api/v1/pipelines/{pipeline['id']}/archive")
    assert (again.status_code, again.json()["code"]) == (404, "pipeline_not_found")


def test_a_deployment_resumed_as_its_pipeline_is_archived_stays_paused(
    client: TestClient, engine: Engine, pipeline: dict
) -> None:
    """The resume read "not archived" as the archive committed, and the archive's pause had skipped the deployment
    (still paused when it looked): an archived pipeline's deployment went on firing."""
    deployment_id = _paused_deployment(client)
    raised = _second_waits_for_first(engine, lambda s: _archive(s, pipeline["id"]), lambda s: _resume(s, deployment_id))
    assert isinstance(raised, Conflict), raised
    assert raised.code == "pipeline_archived"
    deployment = client.get(f"/api/v1/deployments/{deployment_id}").json()
    assert (deployment["enabled"], deployment["next_run_at"]) == (False, None)


def test_a_pipeline_archived_as_its_deployment_is_resumed_pauses_it(
    client: TestClient, engine: Engine, pipeline: dict
) -> None:
    """The archive's pause looked for active deployments while the resume was uncommitted, found none, and the
    resumed deployment of the archived pipeline stayed active."""
    deployment_id = _paused_deployment(client)
    raised = _second_waits_for_first(engine, lambda s: _resume(s, deployment_id), lambda s: _archive(s, pipeline["id"]))
    assert raised is None
    deployment = client.get(f"/api/v1/deployments/{deployment_id}").json()
    assert (deployment["enabled"], deployment["next_run_at"]) == (False, None)
    pauses = _audited(client, "deployments.pause", deployment_id)
    assert pauses[0]["details"] == {"reason": "its pipeline was archived"}, pauses


def _new_version(session: Session, pipeline_id: str) -> None:
    """What PUT /pipelines/{id} does in its transaction."""
    pipeline = pipeline_for(session, pipeline_id, "default", ROOT, Permission.PIPELINES_WRITE)
    pipeline_versions.new_version(session, pipeline, {"steps": []}, principal=ROOT, audit_as=AS_ROOT)


def _versions(engine: Engine, pipeline_id: str) -> list[int]:
    with engine.connect() as connection:
        query = text("SELECT version FROM pipeline_versions WHERE pipeline_id = :id ORDER BY version")
        return list(connection.execute(query, {"id": pipeline_id}).scalars())


def test_a_version_added_as_its_pipeline_is_archived_is_refused(
    client: TestClient, engine: Engine, pipeline: dict
) -> None:
    """The change read 'not archived' before it took the pipeline's lock, waited for the archive, then added its
    version: an archived pipeline changed."""
    before = _versions(engine, pipeline["id"])
    raised = _second_waits_for_first(
        engine, lambda s: _archive(s, pipeline["id"]), lambda s: _new_version(s, pipeline["id"])
    )
    assert isinstance(raised, NotFound), raised
    assert raised.code == "pipeline_not_found"
    assert _versions(engine, pipeline["id"]) == before
    assert _audited(client, "pipelines.update", pipeline["id"]) == []
    # the same answer as a change asked after the archive
    again = client.put(f"/api/v1/pipelines/{pipeline['id']}", json={"spec": {"steps": []}})
    assert (again.status_code, again.json()["code"]) == (404, "pipeline_not_found")


def _patch(session: Session, deployment_id: str, settings: Settings) -> None:
    """What PATCH /deployments/{id} does in its transaction: a new schedule (fire times computed afresh)."""
    patch = DeploymentPatch(schedule=IntervalSpec(seconds=30))
    deployment_actions.update(session, uuid.UUID(deployment_id), patch, ROOT, settings, audit_as=AS_ROOT)


def _active_deployment(client: TestClient) -> str:
    schedule = {"kind": "interval", "seconds": 60}
    created = client.post("/api/v1/deployments", json={"name": "minutely", "pipeline": "noop", "schedule": schedule})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_deployment_changed_as_its_pipeline_is_archived_stays_paused(
    client: TestClient, engine: Engine, pipeline: dict, settings: Settings
) -> None:
    deployment_id = _active_deployment(client)
    raised = _second_waits_for_first(
        engine, lambda s: _archive(s, pipeline["id"]), lambda s: _patch(s, deployment_id, settings)
    )
    assert raised is None  # a change of a paused deployment is allowed; it does not enable it
    deployment = client.get(f"/api/v1/deployments/{deployment_id}").json()
    assert (deployment["enabled"], deployment["next_run_at"]) == (False, None)


def test_a_pipeline_archived_as_its_deployment_is_changed_pauses_it(
    client: TestClient, engine: Engine, pipeline: dict, settings: Settings
) -> None:
    deployment_id = _active_deployment(client)
    raised = _second_waits_for_first(
        engine, lambda s: _patch(s, deployment_id, settings), lambda s: _archive(s, pipeline["id"])
    )
    assert raised is None
    deployment = client.get(f"/api/v1/deployments/{deployment_id}").json()
    assert (deployment["enabled"], deployment["next_run_at"]) == (False, None)
