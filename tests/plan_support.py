"""The plan of the statement a domain function ran: for tests that a list reads the index it should."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

T = TypeVar("T")


def answered_with_plan(
    engine: Engine, reads: str, call: Callable[[Session], T], settings: tuple[str, ...] = ()
) -> tuple[T, str]:
    """What `call` returns in a session of `engine` (planner `settings` such as `SET LOCAL enable_seqscan = off` in
    force), and the EXPLAIN, in the same transaction, of the last statement it ran that holds `FROM {reads}`."""
    seen: list[tuple[str, Any]] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if f"FROM {reads}" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        with Session(engine) as session, session.begin():
            for setting in settings:
                session.execute(text(setting))
            answer = call(session)
            assert seen, f"no statement read {reads}"
            statement, parameters = seen[-1]
            plan = "\n".join(session.connection().exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return answer, plan
