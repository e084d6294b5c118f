"""What the RBAC matrix's requests act on: resources in namespace `default`, built fresh where a request uses one up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain.audit import AuditContext
from app.domain.members import set_member
from app.domain.permissions import Role
from app.settings import Settings

PASSWORD = "matrix password 123"
_AS_ROOT = AuditContext(principal=None, actor_name="rbac-matrix")


@dataclass
class Multipart:
    """A multipart/form-data body (a file upload) instead of JSON."""

    files: dict[str, tuple[str, bytes, str]]
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """What the requests refer to: resources in namespace `default`, and a victim account."""

    pipeline_id: str
    run_id: str
    done_run_id: str
    victim_id: str
    spare_id: str
    deployment_id: str
    dataset_id: str
    upload_id: str
    engine: Engine
    settings: Settings

    def fresh_deployment(self) -> str:
        """A deployment of its own, for requests that delete theirs."""
        from app.clock import utcnow
        from app.domain.deployment_documents import DeploymentIn
        from app.domain.deployments import create_deployment
        from app.scheduling.spec import IntervalSpec
        from tests.integration.engine_parts import ROOT

        with Session(self.engine) as session, session.begin():
            document = DeploymentIn(
                name=f"d{uuid.uuid4().hex[:8]}", pipeline="noop", schedule=IntervalSpec(seconds=3600)
            )
            return str(create_deployment(session, document, ROOT, self.settings, now=utcnow()).id)

    def fresh_webhook(self) -> str:
        """A webhook subscription of its own (on loopback: created with private targets allowed)."""
        import msgspec

        from app.domain.webhooks import NewWebhook, create_webhook
        from tests.integration.engine_parts import ROOT

        settings = msgspec.structs.replace(self.settings, webhook_allow_private=True)
        with Session(self.engine) as session, session.begin():
            new = NewWebhook(url="http://127.0.0.1:9/", event_types=["run.failed"])
            return str(create_webhook(session, ROOT, new, settings, audit_as=_AS_ROOT).id)

    def webhook_delivery(self) -> str:
        """`<webhook id>/deliveries/<delivery id>` of a fresh webhook's test delivery."""
        from app.domain.webhook_log import send_test
        from tests.integration.engine_parts import ROOT

        webhook_id = self.fresh_webhook()
        with Session(self.engine) as session, session.begin():
            delivery = send_test(session, ROOT, uuid.UUID(webhook_id), audit_as=_AS_ROOT)
            return f"{webhook_id}/deliveries/{delivery.id}"

    def fresh_pipeline(self) -> str:
        """A pipeline of its own, for requests that archive theirs."""
        from app.domain.pipelines import create_pipeline

        with Session(self.engine) as session, session.begin():
            name = f"p{uuid.uuid4().hex[:8]}"
            pipeline, _ = create_pipeline(session, namespace="default", name=name, description="", spec={})
            return str(pipeline.id)

    def fresh_dataset(self, *, with_version: bool = False) -> str:
        """A dataset of its own (no file), for requests that delete theirs; `with_version`: with an empty version 1."""
        dataset_id = uuid.uuid4()
        statements = [
            "INSERT INTO datasets (id, namespace_id, name, source, status) "
            "SELECT :id, id, :name, 'uploaded', 'uploaded' FROM namespaces WHERE name = 'default'"
        ]
        if with_version:
            statements.append(
                "INSERT INTO dataset_versions (dataset_id, version, run_id, row_count, size_bytes, columns) "
                "VALUES (:id, 1, :run, 0, 0, '[]'::jsonb)"
            )
        with Session(self.engine) as session, session.begin():
            for statement in statements:
                session.execute(
                    text(statement), {"id": dataset_id, "name": f"ds{dataset_id.hex[:8]}", "run": uuid.uuid4()}
                )
        return str(dataset_id)

    def spare_member(self) -> str:
        """The spare account, (again) a viewer of `default`, so each removal has someone to remove."""
        with Session(self.engine) as session, session.begin():
            default = session.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
            set_member(session, default, uuid.UUID(self.spare_id), Role.VIEWER)
        return self.spare_id

    def fresh_invite(self) -> str:
        """An unused invite of its own, for requests that revoke theirs."""
        from app.domain.invites import create_invite

        with Session(self.engine) as session, session.begin():
            victim = uuid.UUID(self.victim_id)
            invite, _ = create_invite(session, email=None, namespace_id=None, role=None, created_by=victim, days=1)
            return str(invite.id)
