"""A request whose database connection dropped (or whose transaction PostgreSQL aborted for a concurrent one's sake)
is run once more, when its first attempt cannot have changed anything.

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

The same holds for a transaction PostgreSQL aborted to break a deadlock or a serialization conflict (40P01,
40001): it changed nothing, and run again after the other transaction went through it usually succeeds. One
that fails twice, or after a COMMIT, answers 503 `transaction_conflict` (app/api/errors.py), never 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

from litestar import Controller, Request, Router
from litestar.handlers import HTTPRouteHandler
from litestar.utils.predicates import is_async_callable

from app.db import unit_of_work

logger = logging.getLogger(__name__)

#: Marks a handler function wrapped here, so a second app built in the same process wraps nothing twice.
_WRAPPED = "__conveyor_retries_dropped_connections__"


def retry_dropped_connections(route_handlers: Iterable[Any]) -> list[Any]:
    """`route_handlers` (controllers, routers and handler functions), each HTTP handler among them made to run once more
    after a dropped connection when its first try wrote nothing.

    Litestar calls a handler's function per request and has no hook around that call, so the function itself is
    wrapped, before the app registers the handlers, through Litestar's public way to set it: a route handler is a
    decorator, and calling it with a function (what `@get(...)` does) makes that its function. The wrapper keeps
    the function's kind (a sync one runs in its worker thread as before) and its signature (functools.wraps), from
    which Litestar reads the parameters at registration.
    """
    given = list(route_handlers)
    for item in given:
        if isinstance(item, type) and issubclass(item, Controller):
            found = [(h, item.path) for h in (getattr(item, n) for n in dir(item)) if isinstance(h, HTTPRouteHandler)]
        elif isinstance(item, Router):  # its routes are built already, with its handlers and Litestar's OPTIONS ones
            handlers = (h for r in item.routes for h in getattr(r, "route_handlers", ()))
            found = [(h, "") for h in handlers if isinstance(h, HTTPRouteHandler) and h.http_methods != {"OPTIONS"}]
        else:
            found = [(item, "")] if isinstance(item, HTTPRouteHandler) else []
        for handler, prefix in found:
            if not getattr(handler.fn, _WRAPPED, False):
                where = (
                    f"{'/'.join(sorted(handler.http_methods))} {' '.join(prefix + p for p in sorted(handler.paths))}"
                )
                handler(_retrying(handler.fn, where))
    return given


def _retrying(fn: Any, where: str) -> Any:
    def again(exc: Exception, state: unit_of_work.Attempt, request: Request[Any, Any, Any] | None) -> bool:
        """Whether to run the handler again; `request`: the handler's, if its body was unread when it started."""
        if unit_of_work.connection_dropped(exc):
            what, how = "database connection dropped", "on a new connection"
        elif unit_of_work.transaction_conflict(exc):
            what, how = "transaction aborted by a concurrent one", "after it"
        else:
            return False
        # A body the handler streamed itself cannot be read a second time (Litestar's flag for "stream consumed").
        if state.committed or (request is not None and not request.is_connected):
            logger.warning("%s in %s after it may have written; not repeated", what, where)
            return False
        logger.warning("%s in %s; running it once more %s", what, where, how)
        return True

    if not is_async_callable(fn):  # run in a worker thread (sync_to_thread) or on the event loop

        @functools.wraps(fn)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            request = _unread_request(kwargs)
            with unit_of_work.attempt() as state:
                try:
                    return fn(*args, **kwargs)
                except Exception as exc:
                    if not again(exc, state, request):
                        raise
            with unit_of_work.attempt():
                return fn(*args, **kwargs)

        setattr(run_sync, _WRAPPED, True)
        return run_sync

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        request = _unread_request(kwargs)
        with unit_of_work.attempt() as state:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                if not again(exc, state, request):
                    raise
        with unit_of_work.attempt():
            return await fn(*args, **kwargs)

    setattr(run, _WRAPPED, True)
    return run


def _unread_request(kwargs: dict[str, Any]) -> Request[Any, Any, Any] | None:
    """The handler's request if it takes one and its body is still unread (a parsed `data` body has been read)."""
    request = next((value for value in kwargs.values() if isinstance(value, Request)), None)
    return request if request is not None and request.is_connected else None
