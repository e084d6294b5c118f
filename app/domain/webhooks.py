"""Webhook subscriptions: create (secret shown once), change, delete, rotate the secret; namespace admins only.

Every change is audited here, in its transaction. Targets are checked (resolved, public addresses only unless
`webhook_allow_private`) at creation and on every URL change; the sender checks again at each send.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal, get_args

import msgspec
from msgspec import UNSET, UnsetType
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import InvalidInput, NotFound
from app.core.ids import uuid7
from app.db.deployments import Deployment
from app.db.models import Pipeline
from app.db.webhooks import WebhookSubscription
from app.domain import audit
from app.domain.name_search import holds
from app.domain.namespaces import visible_namespace_id
from app.domain.pagination import decode_cursor
from app.domain.permissions import Permission, Principal
from app.settings import Settings
from app.webhooks import signing, targets

#: The events a subscription may ask for (see the README's Webhooks section for each payload); the OpenAPI
#: document lists them as an enum, so clients (the console's checkboxes) take them from there.
EventType = Literal[
    "run.succeeded",
    "run.failed",
    "run.timed_out",
    "run.cancelled",
    "dataset.ingested",
    "dataset.import.failed",
    "deployment.misfired",
    "deployment.run_skipped",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
EventTypes = Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=len(EVENT_TYPES))]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=targets.MAX_URL_LENGTH)]
Description = display_text.multi_line(500)


class NewWebhook(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    url: Url
    event_types: EventTypes
    namespace: str = "default"
    description: Description = ""
    pipeline_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None
    enabled: bool = True


class WebhookPatch(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; anything left out stays; `null` removes a filter. Enabling clears the failure streak."""

    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    pipeline_id: uuid.UUID | UnsetType | None = UNSET
    deployment_id: uuid.UUID | UnsetType | None = UNSET
    enabled: bool | UnsetType = UNSET


class Rotation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How long the old secret keeps signing beside the new one (default: the instance's grace period)."""

    grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 3600)] | None = None


def check_target(url: str, settings: Settings) -> None:
    """The URL may receive webhooks, or 422 with `webhook_url_invalid|unresolvable|forbidden`."""
    try:
        targets.resolve(url, allow_private=settings.webhook_allow_private)
    except targets.TargetRefused as exc:
        raise InvalidInput(str(exc), code=exc.code, errors=[{"field": "url", "message": str(exc)}]) from None


def _check_event_types(types: list[EventType]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            f"unknown event types {unknown}; known: {list(EVENT_TYPES)}",
            code="webhook_event_type_unknown",
            errors=[{"field": "event_types", "message": f"unknown: {', '.join(unknown)}"}],
        )
    return sorted(set(types), key=EVENT_TYPES.index)


def _check_filters(
    session: Session, namespace_id: uuid.UUID, pipeline_id: uuid.UUID | None, deployment_id: uuid.UUID | None
) -> None:
    if (
        pipeline_id is not None
        and session.scalar(select(Pipeline.id).where(Pipeline.id == pipeline_id, Pipeline.namespace_id == namespace_id))
        is None
    ):
        raise InvalidInput(
            "no such pipeline in this namespace",
            code="pipeline_not_found",
            errors=[{"field": "pipeline_id", "message": "no such pipeline in this namespace"}],
        )
    if (
        deployment_id is not None
        and session.scalar(
            select(Deployment.id).where(Deployment.id == deployment_id, Deployment.namespace_id == namespace_id)
        )
        is None
    ):
        raise InvalidInput(
            "no such deployment in this namespace",
            code="deployment_not_found",
            errors=[{"field": "deployment_id", "message": "no such deployment in this namespace"}],
        )


def _details(row: WebhookSubscription) -> dict[str, object]:
    return {"url": row.url, "event_types": row.event_types, "enabled": row.enabled}


def create_webhook(
    session: Session, principal: Principal, new: NewWebhook, settings: Settings, *, audit_as: audit.AuditContext
) -> WebhookSubscription:
    """A subscription with a fresh secret (the caller shows `row.secret` once)."""
    namespace_id = visible_namespace_id(session, new.namespace, principal.namespaces_with(Permission.NAMESPACES_READ))
    principal.require(Permission.WEBHOOKS_MANAGE, namespace_id, resource="namespace")
    event_types = _check_event_types(new.event_types)
    _check_filters(session, namespace_id, new.pipeline_id, new.deployment_id)
    check_target(new.url, settings)
    row = WebhookSubscription(
        id=uuid7(),
        namespace_id=namespace_id,
        url=new.url,
        description=new.description,
        event_types=event_types,
        pipeline_id=new.pipeline_id,
        deployment_id=new.deployment_id,
        enabled=new.enabled,
        secret=signing.new_secret(),
        created_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    audit.record(
        session,
        audit_as,
        action="webhooks.create",
        resource_type="webhook",
        resource_id=row.id,
        namespace_id=namespace_id,
        details=_details(row),
    )
    return row


def get_webhook(
    session: Session, principal: Principal, webhook_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    """The subscription, or 404 `webhook_not_found` (also when the caller may not see its namespace)."""
    row = session.get(WebhookSubscription, webhook_id, with_for_update=lock)
    if row is None:
        raise NotFound("that webhook does not exist", code="webhook_not_found")
    principal.require(Permission.WEBHOOKS_MANAGE, row.namespace_id, resource="webhook")
    return row


def list_webhooks(
    session: Session,
    principal: Principal,
    *,
    namespace: str | None,
    search: str | None = None,
    limit: int,
    cursor: str | None,
) -> list[WebhookSubscription]:
    """Subscriptions newest first, in namespaces the caller administers (whose address or description holds `search`,
    in any case, when given); `limit + 1` rows to tell if more exist."""
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at.desc(), WebhookSubscription.id.desc())
    visible = principal.namespaces_with(Permission.WEBHOOKS_MANAGE)
    if visible is not None:
        query = query.where(WebhookSubscription.namespace_id.in_(visible))
    if namespace is not None:
        found = visible_namespace_id(session, namespace, principal.namespaces_with(Permission.NAMESPACES_READ))
        principal.require(Permission.WEBHOOKS_MANAGE, found, resource="namespace")
        query = query.where(WebhookSubscription.namespace_id == found)
    if search:
        query = query.where(holds(search, WebhookSubscription.url, WebhookSubscription.description))
    if cursor:
        at = decode_cursor(cursor)
        query = query.where(tuple_(WebhookSubscription.created_at, WebhookSubscription.id) < tuple_(at.at, at.id))
    return list(session.scalars(query.limit(limit + 1)))


def update_webhook(
    session: Session,
    principal: Principal,
    webhook_id: uuid.UUID,
    patch: WebhookPatch,
    settings: Settings,
    *,
    audit_as: audit.AuditContext,
) -> WebhookSubscription:
    row = get_webhook(session, principal, webhook_id, lock=True)
    if patch.url is not UNSET and patch.url != row.url:
        check_target(patch.url, settings)
        row.url = patch.url
    if patch.event_types is not UNSET:
        row.event_types = _check_event_types(patch.event_types)
    if patch.description is not UNSET:
        row.description = patch.description
    pipeline_id = row.pipeline_id if patch.pipeline_id is UNSET else patch.pipeline_id
    deployment_id = row.deployment_id if patch.deployment_id is UNSET else patch.deployment_id
    _check_filters(session, row.namespace_id, pipeline_id, deployment_id)
    row.pipeline_id, row.deployment_id = pipeline_id, deployment_id
    if patch.enabled is not UNSET and patch.enabled != row.enabled:
        row.enabled = patch.enabled
        row.failing_since, row.disabled_reason = None, None if patch.enabled else "disabled by an admin"
    row.updated_at = func.now()  # type: ignore[assignment]
    session.flush()
    session.refresh(row)
    audit.record(
        session,
        audit_as,
        action="webhooks.update",
        resource_type="webhook",
        resource_id=row.id,
        namespace_id=row.namespace_id,
        details=_details(row),
    )
    return row


def delete_webhook(
    session: Session, principal: Principal, webhook_id: uuid.UUID, *, audit_as: audit.AuditContext
) -> None:
    """Delete the subscription with its deliveries (pending ones are not sent)."""
    row = get_webhook(session, principal, webhook_id, lock=True)
    audit.record(
        session,
        audit_as,
        action="webhooks.delete",
        resource_type="webhook",
        resource_id=row.id,
        namespace_id=row.namespace_id,
        details=_details(row),
    )
    session.delete(row)
    session.flush()


def rotate_secret(
    session: Session,
    principal: Principal,
    webhook_id: uuid.UUID,
    rotation: Rotation,
    settings: Settings,
    *,
    audit_as: audit.AuditContext,
) -> WebhookSubscription:
    """A new secret; the current one keeps signing beside it for the grace period (both in `webhook-signature`)."""
    row = get_webhook(session, principal, webhook_id, lock=True)
    grace = rotation.grace_seconds if rotation.grace_seconds is not None else settings.webhook_secret_grace_hours * 3600
    row.previous_secret = row.secret if grace > 0 else None
    row.previous_secret_until = func.now() + timedelta(seconds=grace) if grace > 0 else None  # type: ignore[assignment]
    row.secret = signing.new_secret()
    row.updated_at = func.now()  # type: ignore[assignment]
    session.flush()
    session.refresh(row)
    audit.record(
        session,
        audit_as,
        action="webhooks.rotate_secret",
        resource_type="webhook",
        resource_id=row.id,
        namespace_id=row.namespace_id,
        details={"grace_seconds": grace},
    )
    return row
