"""/api/v1/namespaces: namespaces and their members."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.api import idempotent
from app.api.account_schemas import MemberIn, MemberOut, NamedMemberIn, NamespaceOut
from app.api.idempotent import IdempotencyKey
from app.api.schemas import Page, PageCursor, PageLimit, page, page_cursor
from app.api.security import audit_context, principal_of
from app.core.errors import NotFound
from app.db.database import Database
from app.db.models import Namespace
from app.domain import members, users
from app.domain.permissions import Permission, Role
from app.settings import Settings

#: The `code` of a role that is not one of RoleName's (422, as before the document listed them).
INVALID_ROLE = {"role": "invalid_role"}


def _set_member(request: Request, namespace: str, user_id: uuid.UUID, role_name: str, db: Database) -> MemberOut:
    """Set (add or change) a member's role, audited with the role before and after."""
    role = Role.parse(role_name)
    with db.transaction() as session:
        found = members.namespace_for(session, namespace, principal_of(request), Permission.MEMBERS_MANAGE)
        members.set_member(session, found.id, user_id, role, audit_as=audit_context(request))
        [membership] = members.list_members(session, found.id, limit=1, user_id=user_id)
        return MemberOut.of(*membership)


class NamespaceController(Controller):
    path = "/api/v1/namespaces"
    tags = ["namespaces"]

    @get(
        "/",
        operation_id="listNamespaces",
        opt={"permission": Permission.NAMESPACES_READ},
        sync_to_thread=True,
        summary="Namespaces the caller belongs to (all, for instance admins), by name",
        description=f"At most {members.MAX_NAMESPACES} (an instance holds no more), so one answer holds them all.",
    )
    def list_namespaces(self, request: Request, db: NamedDependency[Database]) -> list[NamespaceOut]:
        with db.read() as session:
            return [NamespaceOut.of(n) for n in members.list_namespaces(session, principal_of(request))]

    @post(
        "/",
        operation_id="createNamespace",
        opt={"permission": Permission.NAMESPACES_MANAGE, "action": "namespaces.create", "errors": (409,)},
        description=f"409 `namespace_taken` for a name in use, `too_many_namespaces` past {members.MAX_NAMESPACES}.",
        status_code=201,
        sync_to_thread=True,
        summary="Create a namespace",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[members.NewNamespace],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[NamespaceOut]:
        with db.transaction() as session:
            namespace_id, replayed = idempotent.create_one(
                session,
                request,
                settings,
                key=idempotency_key,
                body=data,
                create=lambda: members.create_namespace(session, data, audit_as=audit_context(request)).id,
            )
            namespace = session.get_one(Namespace, namespace_id)
            return Response(NamespaceOut.of(namespace), status_code=201, headers=idempotent.headers(replayed))

    @get(
        "/{namespace:str}/members",
        operation_id="listNamespaceMembers",
        opt={"permission": Permission.NAMESPACES_READ},
        sync_to_thread=True,
        summary="Members of a namespace and their roles, newest first",
    )
    def list_members(
        self,
        request: Request,
        namespace: FromPath[str],
        db: NamedDependency[Database],
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[MemberOut]:
        with db.read() as session:
            found = members.namespace_for(session, namespace, principal_of(request), Permission.NAMESPACES_READ)
            rows = members.list_members(session, found.id, limit=limit, cursor=page_cursor(request, cursor))
        return page(
            request, rows, limit, position=lambda r: (r[0].created_at, r[0].user_id), item=lambda r: MemberOut.of(*r)
        )

    @post(
        "/{namespace:str}/members",
        operation_id="addNamespaceMember",
        opt={
            "permission": Permission.MEMBERS_MANAGE,
            "action": "members.set",
            "errors": (404,),
            "invalid": INVALID_ROLE,
        },
        status_code=200,
        sync_to_thread=True,
        summary="Give a user, named by username, a role in the namespace",
    )
    def add_member(
        self, request: Request, namespace: FromPath[str], data: JSONBody[NamedMemberIn], db: NamedDependency[Database]
    ) -> MemberOut:
        """Namespace admins may not list accounts, so they name the user instead of picking an id."""
        with db.read() as session:
            user = users.find_by_username(session, data.username)
            if user is None:
                raise NotFound(f"user {data.username!r} does not exist", code="user_not_found")
            user_id = user.id
        return _set_member(request, namespace, user_id, data.role, db)

    @put(
        "/{namespace:str}/members/{user_id:uuid}",
        operation_id="setNamespaceMember",
        opt={"permission": Permission.MEMBERS_MANAGE, "action": "members.set", "invalid": INVALID_ROLE},
        sync_to_thread=True,
        summary="Give a user a role in the namespace",
    )
    def set_member(
        self,
        request: Request,
        namespace: FromPath[str],
        user_id: FromPath[uuid.UUID],
        data: JSONBody[MemberIn],
        db: NamedDependency[Database],
    ) -> MemberOut:
        return _set_member(request, namespace, user_id, data.role, db)

    @delete(
        "/{namespace:str}/members/{user_id:uuid}",
        operation_id="removeNamespaceMember",
        opt={"permission": Permission.MEMBERS_MANAGE, "action": "members.remove"},
        sync_to_thread=True,
        summary="Remove a user from the namespace",
    )
    def remove_member(
        self, request: Request, namespace: FromPath[str], user_id: FromPath[uuid.UUID], db: NamedDependency[Database]
    ) -> None:
        with db.transaction() as session:
            found = members.namespace_for(session, namespace, principal_of(request), Permission.MEMBERS_MANAGE)
            members.remove_member(session, found.id, user_id, audit_as=audit_context(request))
