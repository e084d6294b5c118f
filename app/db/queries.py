"""Named SQL of the hot paths, loaded once from `sql/queries/*.sql`.

A file holds one or more statements, each introduced by `-- name: <name>`.
Code asks for a query by name; an unknown name fails loudly at import time of
the caller's first use, and a test checks every name the code uses exists.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import TextClause, text

from app.core.states import SQL_TOKENS

SQL_ROOT = Path(__file__).resolve().parents[2] / "sql"
QUERIES_DIR = SQL_ROOT / "queries"
_NAME = re.compile(r"^--\s*name:\s*(?P<name>[a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_TOKEN = re.compile(r"\{\{\s*([A-Z_]+)\s*\}\}")
PARAM = re.compile(r"(?<![:\w]):([a-z_]+)")


def render(source: str) -> str:
    """SQL with its `{{ACTIVE}}`-style tokens replaced by the status sets of app/core/states.py.

    Every statement, view and function under sql/ goes through here, so no status list is copied into SQL.
    """

    def replace(match: re.Match[str]) -> str:
        try:
            return SQL_TOKENS[match[1]]
        except KeyError:
            raise ValueError(f"unknown SQL token {{{{{match[1]}}}}}; known: {sorted(SQL_TOKENS)}") from None

    return _TOKEN.sub(replace, source)


def sql_file(path: Path) -> str:
    """A .sql file (a view or function) as it is run: tokens rendered."""
    return render(path.read_text())


def parse(source: str) -> dict[str, str]:
    """Split a .sql file into {name: statement}."""
    found: dict[str, str] = {}
    matches = list(_NAME.finditer(source))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(source)
        body = source[match.end() : end].strip().rstrip(";").strip()
        if match["name"] in found:
            raise ValueError(f"query {match['name']!r} is defined twice")
        found[match["name"]] = body
    return found


@functools.cache
def all_queries() -> dict[str, str]:
    """Every named query in `sql/queries`."""
    queries: dict[str, str] = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        for name, body in parse(sql_file(path)).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined in two files")
            queries[name] = body
    return queries


@functools.cache
def query(name: str) -> TextClause:
    """The named query as a SQLAlchemy text clause."""
    try:
        return text(all_queries()[name])
    except KeyError:
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}") from None


@functools.cache
def psycopg_query(name: str) -> str:
    """The named query for a bare psycopg connection: its `:name` placeholders as `%(name)s`."""
    try:
        body = all_queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}") from None
    return psycopg_sql(body)


def psycopg_sql(sql: str) -> str:
    """SQL in the files' (SQLAlchemy's) `:name` placeholder style as psycopg's `%(name)s`."""
    return PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


def conninfo_of(sqlalchemy_url: str) -> str:
    """The libpq form of the settings' database URL (SQLAlchemy's names its driver), for bare psycopg connections."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
