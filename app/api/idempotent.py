"""Idempotency-Key on every create: one header, one scope, one replay answer, one rule for secrets shown once.

The first request with a key does the work and records the ids it made; a repeat with the same key and body
(within CONVEYOR_IDEMPOTENCY_TTL_HOURS) answers the original resource again, with the first status and
`Idempotent-Replayed: true`, without doing the work (so never `*_taken` for a name the first request took);
another body is 409 `idempotency_key_reused`. A create whose answer holds a secret shown once (an API token,
an invite's code, a webhook's signing secret) answers a repeat 409 `idempotency_key_replayed_secret` naming
the resource made: the secret is stored nowhere to answer again, and an answer without it would let the client
believe it has one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request
from litestar.params import HeaderParameter
from sqlalchemy.orm import Session

from app.api.security import principal_of
from app.core.errors import Conflict
from app.domain import idempotency
from app.settings import Settings

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Repeat the request with the same key and body (within CONVEYOR_IDEMPOTENCY_TTL_HOURS) to get "
        "the first answer again, marked `Idempotent-Replayed: true`, never a duplicate; another body is 409.",
    ),
]
REPLAYED = {"Idempotent-Replayed": "true"}


def scope(request: Request, resource_id: uuid.UUID | None = None) -> str:
    """The key's scope: the route's declared action, the resource it acts on, the caller."""
    return idempotency.scope_of(request.route_handler.opt["action"], resource_id, principal_of(request).user_id)


def create_many(
    session: Session,
    request: Request,
    settings: Settings,
    *,
    key: str | None,
    body: Any,
    create: Callable[[], list[uuid.UUID]],
    resource_id: uuid.UUID | None = None,
) -> tuple[list[uuid.UUID], bool]:
    """Run `create` once per key (when one is given) in the caller's transaction; the ids and whether a replay."""
    return idempotency.create_once(
        session,
        key=key,
        scope=scope(request, resource_id),
        body=body,
        ttl_hours=settings.idempotency_ttl_hours,
        create=create,
    )


def create_one(
    session: Session,
    request: Request,
    settings: Settings,
    *,
    key: str | None,
    body: Any,
    create: Callable[[], uuid.UUID],
    resource_id: uuid.UUID | None = None,
    shown_once: str | None = None,
) -> tuple[uuid.UUID, bool]:
    """`create_many` for a create that makes one resource; `shown_once` names what a replay cannot show again."""
    [made], replayed = create_many(
        session, request, settings, key=key, body=body, create=lambda: [create()], resource_id=resource_id
    )
    if replayed and shown_once is not None:
        raise Conflict(
            f"this Idempotency-Key already created {shown_once} {made}, whose secret was shown once and is not "
            "stored to be shown again: revoke it (or rotate its secret) if the first answer was lost",
            code="idempotency_key_replayed_secret",
            errors=[{"field": "id", "message": str(made)}],
        )
    return made, replayed


def release(session: Session, request: Request, *, key: str | None, resource_id: uuid.UUID | None = None) -> None:
    """Give back the key of a request that made nothing but commits what it refused (see `idempotency.release`)."""
    if key:
        idempotency.release(session, scope=scope(request, resource_id), key=key)


def headers(replayed: bool, location: str | None = None) -> dict[str, str]:
    """The answer's headers: the created resource's Location, and the replay mark on a repeat."""
    return {**({"Location": location} if location else {}), **(REPLAYED if replayed else {})}
