"""/api/v1/webhooks: signed webhook subscriptions, their secrets, delivery logs, test events and redeliveries."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.api import idempotent
from app.api.idempotent import IdempotencyKey
from app.api.schemas import Page, PageCursor, PageLimit, WebhookSearch, page, page_cursor
from app.api.security import audit_context, principal_of
from app.api.webhook_schemas import (
    DeliveryStatus,
    WebhookDeliveryDetail,
    WebhookDeliveryOut,
    WebhookOut,
    WebhookWithSecret,
)
from app.db.database import Database
from app.domain import webhook_log, webhooks
from app.domain.pagination import check_limit
from app.domain.permissions import Permission
from app.settings import Settings

MANAGE = Permission.WEBHOOKS_MANAGE


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        operation_id="createWebhook",
        opt={"permission": MANAGE, "action": "webhooks.create"},
        status_code=201,
        sync_to_thread=True,
        summary="Subscribe a URL to a namespace's events (the signing secret is shown once)",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[webhooks.NewWebhook],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[WebhookWithSecret]:
        made: list[WebhookWithSecret] = []

        def create() -> uuid.UUID:
            ctx = audit_context(request)
            row = webhooks.create_webhook(session, principal_of(request), data, settings, audit_as=ctx)
            made.append(WebhookWithSecret.of(row))
            return row.id

        with db.transaction() as session:
            idempotent.create_one(
                session, request, settings, key=idempotency_key, body=data, create=create, shown_once="the webhook"
            )
        return Response(made[0], status_code=201, headers={"Location": f"/api/v1/webhooks/{made[0].id}"})

    @get(
        "/",
        operation_id="listWebhooks",
        opt={"permission": MANAGE},
        sync_to_thread=True,
        summary="Webhook subscriptions in namespaces the caller administers, newest first",
    )
    def list_webhooks(
        self,
        request: Request,
        db: NamedDependency[Database],
        namespace: FromQuery[str | None] = None,
        search: WebhookSearch = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[WebhookOut]:
        with db.read() as session:
            rows = webhooks.list_webhooks(
                session,
                principal_of(request),
                namespace=namespace,
                search=search,
                limit=check_limit(limit),
                cursor=page_cursor(request, cursor),
            )
            last = webhook_log.last_deliveries(session, [r.id for r in rows[:limit]])
            return page(
                request,
                rows,
                limit,
                position=lambda r: (r.created_at, r.id),
                item=lambda r: WebhookOut.of(r, last.get(r.id)),
            )

    @get(
        "/{webhook_id:uuid}",
        operation_id="getWebhook",
        opt={"permission": MANAGE},
        sync_to_thread=True,
        summary="Read a webhook subscription (without its secret)",
    )
    def read(self, request: Request, webhook_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> WebhookOut:
        with db.read() as session:
            row = webhooks.get_webhook(session, principal_of(request), webhook_id)
            return WebhookOut.of(row, webhook_log.last_deliveries(session, [row.id]).get(row.id))

    @patch(
        "/{webhook_id:uuid}",
        operation_id="updateWebhook",
        opt={"permission": MANAGE, "action": "webhooks.update"},
        sync_to_thread=True,
        summary="Change a webhook subscription: URL, event types, filters, enabled",
    )
    def update(
        self,
        request: Request,
        webhook_id: FromPath[uuid.UUID],
        data: JSONBody[webhooks.WebhookPatch],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> WebhookOut:
        with db.transaction() as session:
            row = webhooks.update_webhook(
                session, principal_of(request), webhook_id, data, settings, audit_as=audit_context(request)
            )
            return WebhookOut.of(row, webhook_log.last_deliveries(session, [row.id]).get(row.id))

    @delete(
        "/{webhook_id:uuid}",
        operation_id="deleteWebhook",
        opt={"permission": MANAGE, "action": "webhooks.delete"},
        sync_to_thread=True,
        summary="Delete a webhook subscription and its delivery log",
    )
    def remove(self, request: Request, webhook_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> None:
        with db.transaction() as session:
            webhooks.delete_webhook(session, principal_of(request), webhook_id, audit_as=audit_context(request))

    @post(
        "/{webhook_id:uuid}/rotate-secret",
        operation_id="rotateWebhookSecret",
        opt={"permission": MANAGE, "action": "webhooks.rotate_secret"},
        status_code=200,
        sync_to_thread=True,
        summary="A new signing secret (shown once); the old one keeps signing beside it for a grace period",
    )
    def rotate(
        self,
        request: Request,
        webhook_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[webhooks.Rotation | None] = None,
    ) -> WebhookWithSecret:
        with db.transaction() as session:
            row = webhooks.rotate_secret(
                session,
                principal_of(request),
                webhook_id,
                data or webhooks.Rotation(),
                settings,
                audit_as=audit_context(request),
            )
            return WebhookWithSecret.of(row, webhook_log.last_deliveries(session, [row.id]).get(row.id))

    @post(
        "/{webhook_id:uuid}/test",
        operation_id="testWebhook",
        opt={"permission": MANAGE, "action": "webhooks.test", "errors": (409,)},
        status_code=202,
        sync_to_thread=True,
        summary="Send a `webhook.test` event to the subscription (its delivery appears in the log)",
    )
    def test(
        self, request: Request, webhook_id: FromPath[uuid.UUID], db: NamedDependency[Database]
    ) -> WebhookDeliveryOut:
        with db.transaction() as session:
            row = webhook_log.send_test(session, principal_of(request), webhook_id, audit_as=audit_context(request))
            return WebhookDeliveryOut.of(row)

    @get(
        "/{webhook_id:uuid}/deliveries",
        operation_id="listWebhookDeliveries",
        opt={"permission": MANAGE},
        sync_to_thread=True,
        summary="A subscription's deliveries, newest first",
    )
    def deliveries(
        self,
        request: Request,
        webhook_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        status: FromQuery[DeliveryStatus | None] = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[WebhookDeliveryOut]:
        with db.read() as session:
            rows = webhook_log.list_deliveries(
                session,
                principal_of(request),
                webhook_id,
                status=status,
                limit=check_limit(limit),
                cursor=page_cursor(request, cursor),
            )
            return page(request, rows, limit, position=lambda r: (r.created_at, r.id), item=WebhookDeliveryOut.of)

    @get(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}",
        operation_id="getWebhookDelivery",
        opt={"permission": MANAGE},
        sync_to_thread=True,
        summary="One delivery with every attempt: status code, error, latency, response excerpt",
    )
    def delivery(
        self,
        request: Request,
        webhook_id: FromPath[uuid.UUID],
        delivery_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
    ) -> WebhookDeliveryDetail:
        with db.read() as session:
            row, attempts = webhook_log.get_delivery(session, principal_of(request), webhook_id, delivery_id)
            return WebhookDeliveryDetail.with_attempts(row, attempts)

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/redeliver",
        operation_id="redeliverWebhook",
        opt={"permission": MANAGE, "action": "webhooks.redeliver", "errors": (409,)},
        status_code=202,
        sync_to_thread=True,
        summary="Send a past delivery again (same webhook-id and payload, a new delivery in the log)",
    )
    def redeliver(
        self,
        request: Request,
        webhook_id: FromPath[uuid.UUID],
        delivery_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
    ) -> WebhookDeliveryOut:
        with db.transaction() as session:
            row = webhook_log.redeliver(
                session, principal_of(request), webhook_id, delivery_id, audit_as=audit_context(request)
            )
            return WebhookDeliveryOut.of(row)
