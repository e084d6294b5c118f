"""The browser console's refresh token: an httpOnly, SameSite=Strict cookie only the refresh call receives.

Page scripts never see it (httpOnly), other sites cannot make the browser send it (SameSite=Strict),
and no other route receives it (its path). Third-party clients keep the JSON token flow.
"""

from __future__ import annotations

import msgspec
from litestar import Request
from litestar.datastructures import Cookie

from app.domain.sessions import IssuedTokens
from app.settings import Settings

#: The cookie's name, and the one path the browser sends it to.
REFRESH_COOKIE = "conveyor_refresh"
REFRESH_PATH = "/api/v1/auth/refresh"


def refresh_from_cookie(request: Request) -> str | None:
    return request.cookies.get(REFRESH_COOKIE) or None


def in_cookie(tokens: IssuedTokens, request: Request, settings: Settings) -> tuple[IssuedTokens, Cookie]:
    """The tokens without the refresh token, and the cookie that carries it instead."""
    cookie = Cookie(
        key=REFRESH_COOKIE,
        value=tokens.refresh_token or "",
        path=REFRESH_PATH,
        max_age=settings.refresh_token_days * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return msgspec.structs.replace(tokens, refresh_token=None), cookie


def cleared() -> Cookie:
    """Tells the browser to forget the refresh cookie (after sign-out or a refused refresh)."""
    return Cookie(key=REFRESH_COOKIE, value="", path=REFRESH_PATH, max_age=0, httponly=True, samesite="strict")
