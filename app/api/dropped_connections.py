"""A request whose database connection dropped is run once more, when its first attempt cannot have changed anything.

A pooled connection the server closed is replaced at checkout (app/db/pool_probe.py); one lost without a word
(a failover, a network cut, or a session ended between checkout and statement) is only found by its first
statement, which fails. SQLAlchemy then invalidates the whole pool, so every later checkout connects afresh
and no later request meets another dead one. Without a pre-ping (a round trip on every checkout), that first
failure was the request's answer: 503. Here the handler is called again, once, on a new connection, if
its first try sent no COMMIT (app/db/unit_of_work.py: PostgreSQL rolled back whatever it had under way; a read
sends none) and did not read a streamed request body itself (that cannot be read twice).

A try that had sent a COMMIT keeps its 503 `database_unavailable`: whether it was applied is unknown, and the
client's repeat with the same Idempotency-Key finds the first one if it was. One rule for every method: a GET
is repeated because it committed nothing, not because of its method.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from app.db import unit_of_work

logger = logging.getLogger(__name__)


def retry_dropped_connections(app: Litestar) -> None:
    """Every HTTP handler of `app` runs once more after a dropped connection, when its first try wrote nothing."""
    paths: dict[HTTPRouteHandler, list[str]] = {}  # a handler may serve several paths: wrapped once
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                paths.setdefault(handler, []).append(route.path)
    for handler, served in paths.items():
        # Litestar calls `handler.fn` per request and has no hook around that call. A route handler is a
        # decorator: calling it with a function makes that its `fn` (what `@get(...)` does to the function
        # below it), Litestar's public way to set the function. Its signature was parsed at registration, from
        # the function wrapped here, so injection and validation are unchanged.
        handler(_retrying(handler, " ".join(served)))


def _retrying(handler: HTTPRouteHandler, paths: str) -> Any:
    fn = handler.fn
    where = f"{'/'.join(sorted(handler.http_methods))} {paths}"

    def again(exc: Exception, state: unit_of_work.Attempt, request: Request[Any, Any, Any] | None) -> bool:
        """Whether to run the handler again; `request`: the handler's, if its body was unread when it started."""
        if not unit_of_work.connection_dropped(exc):
            return False
        # A body the handler streamed itself cannot be read a second time (Litestar's flag for "stream consumed").
        if state.committed or (request is not None and not request.is_connected):
            logger.warning("database connection dropped in %s after it may have written; not repeated", where)
            return False
        logger.warning("database connection dropped in %s; running it once more on a new connection", where)
        return True

    if handler.has_sync_callable:  # a sync handler run on the event loop (sync_to_thread=False)

        @functools.wraps(fn)
        def run_sync(**kwargs: Any) -> Any:
            request = _unread_request(kwargs)
            with unit_of_work.attempt() as state:
                try:
                    return fn(**kwargs)
                except Exception as exc:
                    if not again(exc, state, request):
                        raise
            with unit_of_work.attempt():
                return fn(**kwargs)

        return run_sync

    @functools.wraps(fn)
    async def run(**kwargs: Any) -> Any:
        request = _unread_request(kwargs)
        # A sync handler runs in a worker thread with a copy of this context: the attempt's state is shared.
        with unit_of_work.attempt() as state:
            try:
                return await fn(**kwargs)
            except Exception as exc:
                if not again(exc, state, request):
                    raise
        with unit_of_work.attempt():
            return await fn(**kwargs)

    return run


def _unread_request(kwargs: dict[str, Any]) -> Request[Any, Any, Any] | None:
    """The handler's request if it takes one and its body is still unread (a parsed `data` body has been read)."""
    request = next((value for value in kwargs.values() if isinstance(value, Request)), None)
    return request if request is not None and request.is_connected else None
