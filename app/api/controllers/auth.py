"""/api/v1/auth: sign in, refresh, sign out, register, one's own profile and password."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.api.account_schemas import MeOut, UserOut
from app.api.refresh_cookie import cleared, in_cookie, refresh_from_cookie
from app.api.security import audit_context, principal_of
from app.core import display_text
from app.core.errors import TooManyRequests, Unauthorized
from app.db.database import Database
from app.domain import account_actions as account
from app.domain import passwords, sessions, users
from app.domain.audit import AuditContext
from app.domain.permissions import Permission
from app.domain.sessions import IssuedTokens
from app.domain.throttle import LoginThrottle
from app.settings import Settings


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    #: True (browsers): the refresh token comes as an httpOnly cookie for POST /auth/refresh, not in the body.
    refresh_cookie: bool = False


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    #: Omitted by the console, whose refresh token is in the cookie set at sign-in.
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(max_length=1024)]
    new_password: Annotated[str, msgspec.Meta(max_length=1024)]


class ProfileIn(display_text.Normalised, forbid_unknown_fields=True):
    display_name: users.DisplayName | None = None
    email: users.Email | None = None


class RegisterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(pattern=users.USERNAME)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    email: users.Email | None = None
    invite: str | None = None


PUBLIC = {"permission": Permission.PUBLIC}
SELF = {"permission": Permission.SELF}


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        operation_id="login",
        opt={**PUBLIC, "errors": (401, 429)},
        status_code=200,
        summary="Sign in with a username and password",
    )
    async def login(
        self,
        request: Request,
        data: JSONBody[LoginIn],
        db: NamedDependency[Database],
        throttle: NamedDependency[LoginThrottle],
        settings: NamedDependency[Settings],
    ) -> Response[IssuedTokens]:
        ctx = audit_context(request)
        client = ctx.client_address or "-"
        try:
            await anyio.to_thread.run_sync(throttle.check, data.username, client)
        except TooManyRequests as locked:
            await anyio.to_thread.run_sync(self._denied, db, ctx, data.username, locked)
            raise

        def attempt() -> IssuedTokens:
            with db.transaction() as session:
                return account.sign_in(session, data.username, data.password, settings, audit_as=ctx)

        try:
            tokens = await anyio.to_thread.run_sync(attempt)
        except Exception as exc:
            await anyio.to_thread.run_sync(self._failed, db, throttle, ctx, data.username, client, exc)
            raise
        await anyio.to_thread.run_sync(throttle.succeeded, data.username, client)
        if data.refresh_cookie:
            body, cookie = in_cookie(tokens, request, settings)
            return Response(body, cookies=[cookie])
        return Response(tokens)

    @staticmethod
    def _denied(db: Database, ctx: AuditContext, username: str, exc: TooManyRequests) -> None:
        with db.transaction() as session:
            account.sign_in_refused(session, username, exc, audit_as=ctx)

    @staticmethod
    def _failed(
        db: Database, throttle: LoginThrottle, ctx: AuditContext, username: str, client: str, exc: Exception
    ) -> None:
        try:
            throttle.failed(username, client)
        finally:  # audited also when the failure could not be counted (Redis unreachable: 503 login_unavailable)
            with db.transaction() as session:
                account.sign_in_refused(session, username, exc, audit_as=ctx)

    @post(
        "/refresh",
        operation_id="refreshTokens",
        opt={**PUBLIC, "errors": (401,)},
        status_code=200,
        sync_to_thread=True,
        summary="Swap a refresh token (from the body, or else the console's cookie, which is then renewed)",
    )
    def refresh(
        self,
        request: Request,
        data: JSONBody[RefreshIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[IssuedTokens]:
        from_cookie = data.refresh_token is None
        token = data.refresh_token or refresh_from_cookie(request)
        if token is None:
            raise Unauthorized("send refresh_token, or sign in again", code="invalid_refresh_token")
        try:
            with db.transaction() as session:
                _, tokens = sessions.refresh(session, token, settings)
            if from_cookie:
                body, cookie = in_cookie(tokens, request, settings)
                return Response(body, cookies=[cookie])
            return Response(tokens)
        except sessions.RefreshTokenReused as reused:
            with db.transaction() as session:  # the revocation must stick although the request fails
                account.refresh_reused(session, reused, audit_as=audit_context(request))
            raise

    @post(
        "/logout",
        operation_id="logout",
        opt={**SELF, "action": "auth.logout", "errors": (422,)},
        status_code=204,
        response_cookies=[cleared()],  # the console's refresh cookie goes too
        sync_to_thread=True,
        summary="Sign out: this session's tokens stop working at once",
    )
    def logout(self, request: Request, db: NamedDependency[Database]) -> None:
        with db.transaction() as session:
            account.sign_out(session, principal_of(request), audit_as=audit_context(request))

    @get(
        "/password-rules",
        operation_id="getPasswordRules",
        opt=PUBLIC,
        sync_to_thread=False,
        summary="The password rules a new password must meet, to show before submitting",
    )
    def password_rules(self, settings: NamedDependency[Settings]) -> passwords.PasswordRules:
        return passwords.password_rules(settings)

    @get(
        "/me",
        operation_id="getMe",
        opt={**SELF},
        sync_to_thread=True,
        summary="Who am I: profile, roles and permissions per namespace",
    )
    def me(self, request: Request, db: NamedDependency[Database]) -> MeOut:
        principal = principal_of(request)
        with db.read() as session:
            return MeOut.of(session, users.get_user(session, principal.user_id), principal)

    @patch(
        "/me",
        operation_id="updateMe",
        opt={**SELF, "action": "users.update_profile"},
        sync_to_thread=True,
        summary="Change one's profile",
    )
    def update_me(self, request: Request, data: JSONBody[ProfileIn], db: NamedDependency[Database]) -> UserOut:
        changes: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        with db.transaction() as session:
            user = account.update_profile(session, principal_of(request), changes, audit_as=audit_context(request))
            return UserOut.of(user)

    @post(
        "/password",
        operation_id="changePassword",
        opt={**SELF, "action": "users.change_password", "errors": (403,)},
        status_code=204,
        sync_to_thread=True,
        summary="Change one's password (other sessions are signed out)",
    )
    def change_password(
        self,
        request: Request,
        data: JSONBody[PasswordIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> None:
        with db.transaction() as session:
            account.change_password(
                session,
                principal_of(request),
                current=data.current_password,
                new=data.new_password,
                settings=settings,
                audit_as=audit_context(request),
            )

    @post(
        "/register",
        operation_id="register",
        opt={**PUBLIC, "action": "users.register", "errors": (403, 404, 409)},
        status_code=201,
        sync_to_thread=True,
        summary="Create an account (when CONVEYOR_REGISTRATION allows it)",
    )
    def register(
        self,
        request: Request,
        data: JSONBody[RegisterIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[UserOut]:
        new = users.NewUser(username=data.username, password=data.password, email=data.email)
        with db.transaction() as session:
            user = account.register(session, new, data.invite, settings, audit_as=audit_context(request))
            return Response(UserOut.of(user), status_code=201)
