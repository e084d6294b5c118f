"""The `before_request` hook: every check that holds a request to the contract before its handler runs.

It runs after the permission guard (an unauthenticated client is refused first)
and before the handler's arguments are read, so a refused request never reaches
the domain.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.api.instant_parameters import check_instants
from app.api.media_types import check_media_type
from app.api.text_boundary import refuse_unstorable_text


async def check_request(request: Request[Any, Any, Any]) -> None:
    check_media_type(request.scope)
    await refuse_unstorable_text(request)
    check_instants(request.scope)
