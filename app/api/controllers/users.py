"""/api/v1/users and /api/v1/invites: account administration (instance admins)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.api import idempotent
from app.api.account_schemas import InviteInfo, InviteOut, TemporaryPassword, UserOut
from app.api.idempotent import IdempotencyKey
from app.api.schemas import Page, PageCursor, PageLimit, UserSearch, page, page_cursor
from app.api.security import audit_context, principal_of
from app.db.accounts import RoleName
from app.db.database import Database
from app.domain import users
from app.domain.invites import create_invite, list_invites, revoke_invite
from app.domain.members import get_namespace
from app.domain.permissions import Permission, Role
from app.settings import Settings

MANAGE = {"permission": Permission.USERS_MANAGE}


class InviteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: users.Email | None = None
    namespace: str | None = None
    role: RoleName | None = None
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 7


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/", operation_id="listUsers", opt=MANAGE, sync_to_thread=True, summary="List accounts")
    def list_users(
        self,
        request: Request,
        db: NamedDependency[Database],
        search: UserSearch = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[UserOut]:
        with db.read() as session:
            rows = users.list_users(session, search=search, limit=limit, cursor=page_cursor(request, cursor))
        return page(request, rows, limit, position=lambda u: (u.created_at, u.id), item=UserOut.of)

    @post(
        "/",
        operation_id="createUser",
        opt={**MANAGE, "action": "users.create", "errors": (409,)},
        status_code=201,
        sync_to_thread=True,
        summary="Create an account",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[users.NewUser],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UserOut]:
        with db.transaction() as session:
            user_id, replayed = idempotent.create_one(
                session,
                request,
                settings,
                key=idempotency_key,
                body=data,
                create=lambda: users.create_user(session, data, settings, audit_as=audit_context(request)).id,
            )
            out = UserOut.of(users.get_user(session, user_id))
            return Response(out, status_code=201, headers=idempotent.headers(replayed))

    @get("/{user_id:uuid}", operation_id="getUser", opt=MANAGE, sync_to_thread=True, summary="Read an account")
    def read(self, user_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> UserOut:
        with db.read() as session:
            return UserOut.of(users.get_user(session, user_id))

    def _set_disabled(self, request: Request, db: Database, user_id: uuid.UUID, disabled: bool) -> UserOut:
        with db.transaction() as session:
            user = users.get_user(session, user_id)
            users.set_disabled(session, user, disabled, audit_as=audit_context(request))
            return UserOut.of(user)

    @post(
        "/{user_id:uuid}/disable",
        operation_id="disableUser",
        opt={**MANAGE, "action": "users.disable", "errors": (409,)},
        status_code=200,
        sync_to_thread=True,
        summary="Disable an account: its tokens stop working at once",
    )
    def disable(self, request: Request, user_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> UserOut:
        if user_id == principal_of(request).user_id:
            from app.core.errors import Conflict

            raise Conflict("you cannot disable your own account", code="cannot_disable_self")
        return self._set_disabled(request, db, user_id, True)

    @post(
        "/{user_id:uuid}/enable",
        operation_id="enableUser",
        opt={**MANAGE, "action": "users.enable"},
        status_code=200,
        sync_to_thread=True,
        summary="Re-enable an account",
    )
    def enable(self, request: Request, user_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> UserOut:
        return self._set_disabled(request, db, user_id, False)

    @post(
        "/{user_id:uuid}/reset-password",
        operation_id="resetUserPassword",
        opt={**MANAGE, "action": "users.reset_password"},
        status_code=200,
        sync_to_thread=True,
        summary="Set a temporary password, to be changed at the next sign-in",
    )
    def reset_password(
        self,
        request: Request,
        user_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> TemporaryPassword:
        with db.transaction() as session:
            user = users.get_user(session, user_id)
            temporary = users.reset_password(session, user, settings, audit_as=audit_context(request))
            return TemporaryPassword(temporary)


class InviteController(Controller):
    path = "/api/v1/invites"
    tags = ["users"]

    @post(
        "/",
        operation_id="createInvite",
        opt={**MANAGE, "action": "invites.create", "errors": (404,)},
        status_code=201,
        sync_to_thread=True,
        summary="Create a one-time registration invite (shown once)",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[InviteIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> InviteOut:
        made: list[InviteOut] = []

        def create() -> uuid.UUID:
            namespace_id = get_namespace(session, data.namespace).id if data.namespace else None
            invite, token = create_invite(
                session,
                email=data.email,
                namespace_id=namespace_id,
                role=Role.parse(data.role) if data.role else None,
                created_by=principal_of(request).user_id,
                days=data.expires_in_days,
                audit_as=audit_context(request),
            )
            made.append(InviteOut(id=invite.id, token=token, expires_at=invite.expires_at))
            return invite.id

        with db.transaction() as session:
            idempotent.create_one(
                session, request, settings, key=idempotency_key, body=data, create=create, shown_once="the invite"
            )
        return made[0]

    @get("/", operation_id="listInvites", opt=MANAGE, sync_to_thread=True, summary="Invites, newest first")
    def list_invites(
        self, request: Request, db: NamedDependency[Database], limit: PageLimit = 50, cursor: PageCursor = None
    ) -> Page[InviteInfo]:
        with db.read() as session:
            rows = list_invites(session, limit=limit, cursor=page_cursor(request, cursor))
        return page(
            request, rows, limit, position=lambda r: (r[0].created_at, r[0].id), item=lambda r: InviteInfo.of(*r)
        )

    @delete(
        "/{invite_id:uuid}",
        operation_id="revokeInvite",
        opt={**MANAGE, "action": "invites.revoke", "errors": (404, 409)},
        sync_to_thread=True,
        summary="Revoke an unused invite: it cannot be redeemed any more",
    )
    def revoke(self, request: Request, invite_id: FromPath[uuid.UUID], db: NamedDependency[Database]) -> None:
        with db.transaction() as session:
            revoke_invite(session, invite_id, audit_as=audit_context(request))
