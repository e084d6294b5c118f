"""/api/v1/tokens: API tokens for batch submitters."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.api import idempotent
from app.api.account_schemas import ApiTokenOut, CreatedApiToken
from app.api.idempotent import IdempotencyKey
from app.api.schemas import NameSearch, Page, PageCursor, PageLimit, page, page_cursor
from app.api.security import audit_context, principal_of
from app.db.database import Database
from app.domain import api_tokens
from app.domain.permissions import Permission
from app.settings import Settings


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["tokens"]

    @post(
        "/",
        operation_id="createApiToken",
        opt={"permission": Permission.SELF, "action": "tokens.create", "errors": (403, 404)},
        status_code=201,
        sync_to_thread=True,
        summary="Create an API token (the token is shown once)",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[api_tokens.NewApiToken],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CreatedApiToken]:
        made: list[CreatedApiToken] = []

        def create() -> uuid.UUID:
            row, token = api_tokens.create_api_token(
                session, principal_of(request), data, settings, audit_as=audit_context(request)
            )
            fields = {f: getattr(ApiTokenOut.of(row), f) for f in ApiTokenOut.__struct_fields__}
            made.append(CreatedApiToken(**fields, token=token))
            return row.id

        with db.transaction() as session:
            idempotent.create_one(
                session, request, settings, key=idempotency_key, body=data, create=create, shown_once="the API token"
            )
        return Response(made[0], status_code=201)

    @get(
        "/",
        operation_id="listApiTokens",
        opt={"permission": Permission.SELF, "errors": (403,)},
        sync_to_thread=True,
        summary="One's own API tokens, or (namespace admins) every token of a namespace, newest first",
    )
    def list_tokens(
        self,
        request: Request,
        db: NamedDependency[Database],
        namespace: FromQuery[str | None] = None,
        search: NameSearch = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[ApiTokenOut]:
        with db.read() as session:
            rows = api_tokens.list_api_tokens(
                session,
                principal_of(request),
                namespace=namespace or None,
                search=search,
                limit=limit,
                cursor=page_cursor(request, cursor),
            )
        return page(request, rows, limit, position=lambda t: (t.created_at, t.id), item=ApiTokenOut.of)

    @delete(
        "/{token_id:uuid}",
        operation_id="revokeApiToken",
        opt={"permission": Permission.SELF, "action": "tokens.revoke", "errors": (404, 409)},
        sync_to_thread=True,
        summary="Revoke an API token: it stops working at once",
    )
    def revoke(self, request: Request, token_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> None:
        with db.transaction() as session:
            api_tokens.revoke_api_token(session, principal_of(request), token_id, audit_as=audit_context(request))
