"""Roles, permissions, and the one table that maps each permission to who holds it.

Every route declares one permission (the API's guard enforces it); domain code
then checks it against the namespace of the resource at hand through the
caller's Principal. Nothing else decides who may do what.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from app.core.errors import Forbidden, NotFound


class Role(IntEnum):
    """Namespace roles; each includes everything the ones below it may do."""

    VIEWER = 1
    OPERATOR = 2
    EDITOR = 3
    ADMIN = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        return cls[name.upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


class Scope(StrEnum):
    """Who a permission is for, when it is not a namespace role."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # any active account, whatever its roles
    SUPERUSER = "superuser"  # instance admins only


class Permission(StrEnum):
    PUBLIC = "public"
    SELF = "self"  # one's own profile, password, sessions and tokens
    RUNS_READ = "runs:read"
    RUNS_OPERATE = "runs:operate"  # submit, cancel, retry
    PIPELINES_READ = "pipelines:read"
    PIPELINES_WRITE = "pipelines:write"
    DATASETS_READ = "datasets:read"
    DATASETS_WRITE = "datasets:write"  # upload, import, rename, tag, delete
    NAMESPACES_READ = "namespaces:read"
    MEMBERS_MANAGE = "members:manage"
    TOKENS_MANAGE = "tokens:manage"  # other people's API tokens in a namespace
    AUDIT_READ = "audit:read"
    WEBHOOKS_MANAGE = "webhooks:manage"  # subscriptions, their secrets and delivery logs
    NAMESPACES_MANAGE = "namespaces:manage"
    USERS_MANAGE = "users:manage"


#: The permission table: each permission's lowest namespace role, or the scope it belongs to.
PERMISSIONS: dict[Permission, Role | Scope] = {
    Permission.PUBLIC: Scope.PUBLIC,
    Permission.SELF: Scope.SIGNED_IN,
    Permission.RUNS_READ: Role.VIEWER,
    Permission.RUNS_OPERATE: Role.OPERATOR,
    Permission.PIPELINES_READ: Role.VIEWER,
    Permission.PIPELINES_WRITE: Role.EDITOR,
    Permission.DATASETS_READ: Role.VIEWER,
    Permission.DATASETS_WRITE: Role.EDITOR,
    Permission.NAMESPACES_READ: Role.VIEWER,
    Permission.MEMBERS_MANAGE: Role.ADMIN,
    Permission.TOKENS_MANAGE: Role.ADMIN,
    Permission.AUDIT_READ: Role.ADMIN,
    Permission.WEBHOOKS_MANAGE: Role.ADMIN,
    Permission.NAMESPACES_MANAGE: Scope.SUPERUSER,
    Permission.USERS_MANAGE: Scope.SUPERUSER,
}

#: What an account that must change its password may still do.
ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset({Permission.PUBLIC, Permission.SELF})


@dataclass(frozen=True)
class Principal:
    """The caller: a user, through a session or an API token, with a role per namespace."""

    user_id: uuid.UUID
    username: str
    is_superuser: bool = False
    roles: dict[uuid.UUID, Role] = field(default_factory=dict)
    token_id: uuid.UUID | None = None
    token_kind: str = "access"
    family_id: uuid.UUID | None = None
    must_change_password: bool = False

    def role_in(self, namespace_id: uuid.UUID) -> Role | None:
        return self.roles.get(namespace_id)

    def may(self, permission: Permission, namespace_id: uuid.UUID | None = None) -> bool:
        """Whether the caller holds `permission` (in `namespace_id`, or in some namespace if None)."""
        needed = PERMISSIONS[permission]
        if needed is Scope.PUBLIC:
            return True
        if needed is Scope.SIGNED_IN:
            return True
        if self.is_superuser:
            return True
        if needed is Scope.SUPERUSER:
            return False
        if namespace_id is None:
            return any(role >= needed for role in self.roles.values())
        role = self.roles.get(namespace_id)
        return role is not None and role >= needed

    def require(
        self, permission: Permission, namespace_id: uuid.UUID, *, resource: str = "resource", name: str | None = None
    ) -> None:
        """Raise unless allowed: 404 when the caller cannot see the namespace at all, else 403.

        The one namespace check: domain services call it for the resource at hand; controllers never do.
        """
        if self.may(permission, namespace_id):
            return
        if not self.is_superuser and namespace_id not in self.roles:
            named = f"{resource} {name!r}" if name is not None else resource
            raise NotFound(f"{named} does not exist", code=f"{resource.replace(' ', '_')}_not_found")
        raise Forbidden(f"this needs the {permission.value} permission in this namespace", code="forbidden")

    def held(self, namespace_id: uuid.UUID | None = None) -> list[Permission]:
        """What the caller may do in `namespace_id`, or outside namespaces when None: for role-aware UIs."""
        in_namespace = namespace_id is not None
        return [
            p
            for p, who in PERMISSIONS.items()
            if isinstance(who, Role) == in_namespace and who is not Scope.PUBLIC and self.may(p, namespace_id)
        ]

    def namespaces_with(self, permission: Permission) -> list[uuid.UUID] | None:
        """Namespaces where the caller holds `permission`; None means every namespace (superusers)."""
        if self.is_superuser:
            return None
        return [ns for ns in self.roles if self.may(permission, ns)]


def effective_roles(
    memberships: Iterable[tuple[uuid.UUID, str]], *, token_namespace: uuid.UUID | None, token_role: str | None
) -> dict[uuid.UUID, Role]:
    """A user's roles, narrowed by an API token to its one namespace and its role ceiling."""
    roles = {ns: Role.parse(role) for ns, role in memberships}
    if token_namespace is None:
        return roles
    ceiling = Role.parse(token_role) if token_role else Role.ADMIN
    if token_namespace not in roles:
        return {}
    return {token_namespace: min(roles[token_namespace], ceiling)}
