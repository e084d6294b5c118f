"""Archiving a pipeline while another request archives it, or resumes one of its deployments: each change is
decided under the rows' locks, so the second one sees what the first committed."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from litestar.testing import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.domain import pipeline_versions
from app.domain.audit import AuditContext
from app.domain.permissions import Permission
from app.domain.pipelines import pipeline_for
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
