"""A batch a statement locks is picked once: never as an `IN (SELECT ... FOR UPDATE)` subquery.

Postgres may join such a subquery by a nested loop that rescans it; each rescan skips the rows the statement
already changed and locks the next batch, so `LIMIT :batch` stopped bounding the work (a rollup fold with a
batch of 50 took 180 changes; tests/integration/test_metrics_rollup.py). A CTE with FOR UPDATE is evaluated
once, so the batch goes there (`WITH picked AS MATERIALIZED (...)`).
"""

from __future__ import annotations

import re

from app.db.queries import all_queries

_SUBQUERY = re.compile(r"\bIN\s*\(\s*SELECT\b", re.IGNORECASE)


def _parenthesised(sql: str, start: int) -> str:
    """The text from the parenthesis at or after `start` to the one that closes it."""
    opened = sql.index("(", start)
    depth = 0
    for end in range(opened, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        if depth == 0:
            return sql[opened : end + 1]
    return sql[opened:]


def locking_subqueries(sql: str) -> list[str]:
    return [body for m in _SUBQUERY.finditer(sql) if "FOR UPDATE" in (body := _parenthesised(sql, m.start())).upper()]


def test_no_query_locks_its_batch_in_an_in_subquery() -> None:
    found = {name: locking_subqueries(sql) for name, sql in all_queries().items()}
    assert {name: bodies for name, bodies in found.items() if bodies} == {}


def test_the_check_sees_a_locking_subquery() -> None:
    sql = "DELETE FROM q WHERE id IN (SELECT id FROM q ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED) RETURNING id"
    assert locking_subqueries(sql) == ["(SELECT id FROM q ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED)"]
    assert (
        locking_subqueries(
            "WITH p AS MATERIALIZED (SELECT id FROM q FOR UPDATE) SELECT 1 WHERE 1 IN (SELECT id FROM p)"
        )
        == []
    )
