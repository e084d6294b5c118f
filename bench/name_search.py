"""`?search=` on every list at 1,000,000 runs: the list queries the API runs, timed for rare and common words.

A fresh database migrated to head is filled by bench/_search_data.py (1,000,000 runs; 100,000 datasets, 200,000
uploads and thousands of pipelines, deployments, users, webhooks, tokens; names in English and Chinese). Each list's
domain function (what its GET runs, limit 50, as an instance admin) is called with each search word `--calls` times
in a fresh session: p50 and p95, the ratio of p95 to the 50 ms target, and the EXPLAIN ANALYZE of its last
statement (whether it read a trigram index, a Seq Scan, the rows its filters threw away).

Then the same again without the trigram indexes (dropped, when the database has them): the reference, so the
figures say what the indexes change (`ratio_to_no_trgm`) in one process run.

    python -m bench name_search [--runs 1000000] [--calls 20] [--lists runs,datasets]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.domain.api_tokens import list_api_tokens
from app.domain.datasets import DatasetFilters, list_datasets
from app.domain.deployments import list_deployments
from app.domain.permissions import Principal
from app.domain.pipelines import list_pipelines
from app.domain.runs import RunFilters, list_runs
from app.domain.uploads import list_uploads
from app.domain.users import list_users
from app.domain.webhooks import list_webhooks
from bench._plans import StatementCapture
from bench._search_data import seed
from bench._servers import BenchServers, figure, migrated, percentile

TARGET_P95_MS = 50.0
LIMIT = 50
ADMIN = Principal(user_id=uuid.UUID(int=0), username="bench", is_superuser=True)

#: Search words: (name, word). Rare ones hold one row of each table; `鹦鹉` is rare but only two characters.
WORDS = [
    ("rare_ascii", "quokka"),
    ("rare_chinese", "稀有鹦鹉"),
    ("rare_chinese_2chars", "鹦鹉"),
    ("rare_escaped", "100%_"),
    ("none", "zzqxj"),
    ("common_ascii", "orders"),
    ("common_chinese", "销售数据"),
    ("common_chinese_2chars", "销售"),
]

List = Callable[[Session, str], list[Any]]

LISTS: dict[str, List] = {
    "runs": lambda s, w: list_runs(s, ADMIN, RunFilters(search=w), limit=LIMIT, cursor=None),
    "datasets": lambda s, w: list_datasets(s, ADMIN, DatasetFilters(search=w), limit=LIMIT, cursor=None),
    "uploads": lambda s, w: list_uploads(s, ADMIN, namespace=None, search=w, limit=LIMIT, cursor=None),
    "pipelines": lambda s, w: list_pipelines(s, ADMIN, namespace=None, search=w, limit=LIMIT, cursor=None),
    "deployments": lambda s, w: list_deployments(s, ADMIN, search=w, limit=LIMIT, cursor=None),
    "webhooks": lambda s, w: list_webhooks(s, ADMIN, namespace=None, search=w, limit=LIMIT, cursor=None),
    "tokens": lambda s, w: list_api_tokens(s, ADMIN, namespace="default", search=w),
    "users": lambda s, w: list_users(s, search=w, limit=LIMIT, cursor=None),
}


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def _the_list(statement: str) -> bool:
    """A list's own statement: a SELECT, not the catalog look-ups SQLAlchemy makes."""
    return statement.lstrip().upper().startswith("SELECT") and "pg_catalog" not in statement


def explain(last: StatementCapture) -> dict[str, Any]:
    """The plan of `last`'s statement: its nodes (index names), rows thrown away, Seq Scans, whether a trigram
    index was read, and the time in the database."""
    plan = last.explained()
    nodes: list[str] = []
    removed = 0

    def walk(node: dict[str, Any]) -> None:
        nonlocal removed
        label = node["Node Type"].replace(" ", "")
        if node.get("Relation Name"):
            label += f":{node['Relation Name']}"
        if node.get("Index Name"):
            label += f"({node['Index Name']})"
        nodes.append(label)
        removed += int(node.get("Rows Removed by Filter", 0)) + int(node.get("Rows Removed by Index Recheck", 0))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {
        "nodes": nodes,
        "removed": removed,
        "db_ms": float(plan["Execution Time"]),
        "trgm": any("_trgm)" in n for n in nodes),
        "seq": sorted({n.split(":", 1)[1] for n in nodes if n.startswith("SeqScan:")}),
    }


def time_calls(sessions: Callable[[], Session], listed: List, word: str, calls: int) -> tuple[list[float], int]:
    timings: list[float] = []
    found = 0
    deadline = time.monotonic() + 15  # a whole-table scan stops early rather than stall the run
    for _ in range(calls):
        started = time.perf_counter()
        with sessions() as session:
            found = len(listed(session, word))
        timings.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > deadline and len(timings) >= 5:
            break
    return timings, found


def measure(engine: Engine, lists: list[str], calls: int, phase: str) -> dict[tuple[str, str], float]:
    """Every list and word: one figure line each; returns p95 by (list, word)."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    last = StatementCapture(engine, _the_list)
    p95s: dict[tuple[str, str], float] = {}
    for list_name in lists:
        for word_name, word in WORDS:
            time_calls(sessions, LISTS[list_name], word, 2)  # warm the cache and the plan
            timings, found = time_calls(sessions, LISTS[list_name], word, calls)
            plan = explain(last)
            p50, p95 = percentile(timings, 50), percentile(timings, 95)
            p95s[list_name, word_name] = p95
            figure(
                f"name_search.{phase}.{list_name}.{word_name}.p95",
                p95,
                "ms",
                p50=p50,
                ratio_to_target=p95 / TARGET_P95_MS,
                calls=len(timings),
                found=found,
                db_ms=plan["db_ms"],
                trgm="yes" if plan["trgm"] else "no",
                seq_scan=",".join(plan["seq"]) or "none",
                rows_removed=plan["removed"],
                plan=f'"{" > ".join(plan["nodes"])}"',
            )
    last.close()
    return p95s


def trigram_indexes(engine: Engine) -> list[tuple[str, str]]:
    """(name, definition) of every trigram index in the database."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' ORDER BY 1")
        )
        return [(row[0], row[1]) for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench name_search", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--lists", default=",".join(LISTS), help="comma-separated: " + ",".join(LISTS))
    args = parser.parse_args(argv)
    lists = [name for name in args.lists.split(",") if name]
    if unknown := set(lists) - set(LISTS):
        parser.error(f"unknown lists: {', '.join(sorted(unknown))}")

    with BenchServers() as servers:
        log(f"name_search: {servers.where}")
        _, engine = migrated(servers)
        try:
            started = time.perf_counter()
            seeded = seed(engine, args.runs)
            figure("name_search.seed", time.perf_counter() - started, "s", runs=seeded.runs)
            indexes = trigram_indexes(engine)
            log(f"trigram indexes: {', '.join(name for name, _ in indexes) or 'none'}")
            with_trgm = measure(engine, lists, args.calls, "as_migrated")
            if indexes:
                with engine.begin() as connection:
                    for name, _ in indexes:
                        connection.execute(text(f'DROP INDEX "{name}"'))
                with_out = measure(engine, lists, args.calls, "no_trgm")
                for key, p95 in with_trgm.items():
                    figure(f"name_search.ratio.{key[0]}.{key[1]}", p95 / with_out[key], "x", note="p95_over_no_trgm")
            worst = max(with_trgm.values())
            figure("name_search.worst_p95", worst, "ms", ratio_to_target=worst / TARGET_P95_MS)
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
