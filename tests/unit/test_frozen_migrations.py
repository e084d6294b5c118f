"""A migration runs the SQL it was written with: a later edit of a file under sql/ does not change what it does."""

from __future__ import annotations

import ast
import pathlib
import runpy
from typing import Any
from unittest import mock

import pytest

from app.db import queries

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "sql" / "migrations" / "versions"
#: The folders whose files today's code applies (`CREATE OR REPLACE`): what a later revision may change.
LIVE = (ROOT / "sql" / "functions", ROOT / "sql" / "views", ROOT / "sql" / "queries")
#: Every revision, by file name.
REVISIONS = sorted(p.stem for p in VERSIONS.glob("0*.py"))


def _executed(revision: str, step: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL a revision's upgrade or downgrade executes, refusing to read any file of today's sql/."""
    read_text = pathlib.Path.read_text

    def guarded(path: pathlib.Path, *args: Any, **kwargs: Any) -> str:
        if any(path.resolve().is_relative_to(folder) for folder in LIVE):
            raise AssertionError(f"{revision} {step} read the live file {path.relative_to(ROOT)}")
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", guarded)
    for cached in (queries.all_queries, queries.query, queries.psycopg_query):
        cached.cache_clear()  # a named query read before this test would not be read again
    function = runpy.run_path(str(VERSIONS / f"{revision}.py"))[step]
    op = mock.MagicMock()
    monkeypatch.setitem(function.__globals__, "op", op)
    function()
    return [str(c.args[0]) for c in op.execute.call_args_list]


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("step", ["upgrade", "downgrade"])
def test_no_revision_reads_a_file_under_sql(revision: str, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _executed(revision, step, monkeypatch)


@pytest.mark.parametrize(
    "revision",
    [
        "0010_runs_created_by",
        "0011_run_rollup",
        "0017_batch_captures",
        "0019_occurrence_ranges",
        "0023_run_facts_fire_times",
    ],
)
@pytest.mark.parametrize("step", ["upgrade", "downgrade"])
def test_the_revision_applies_its_own_copy_of_the_functions_and_views(
    revision: str, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = _executed(revision, step, monkeypatch)
    assert statements
    assert not any("{{" in s for s in statements)  # tokens rendered


def test_the_frozen_copies_are_what_the_revisions_applied() -> None:
    """Each copy was taken from the file as the revision left it (no revision since has changed them)."""
    frozen = runpy.run_path(str(VERSIONS / "0017_batch_captures.py"))
    assert "capture_run_rollup(p_run_ids uuid[]" in frozen["ROLLUP_CAPTURE"]
    assert "CREATE OR REPLACE FUNCTION finish_runs" in frozen["TRANSITIONS"]
    ranges = runpy.run_path(str(VERSIONS / "0019_occurrence_ranges.py"))
    assert "fire_times" in ranges["OCCURRENCE_FACTS"]
    assert "fire_times" in ranges["FIRE_TIMES"]
    assert "'fire_times', NEW.fire_times" in ranges["WEBHOOK_CAPTURE"]
    created_by = runpy.run_path(str(VERSIONS / "0010_runs_created_by.py"))
    assert "r.created_by" in created_by["RUN_FACTS"]
    assert "CASE WHEN r.started_at >=" not in created_by["RUN_FACTS"]  # 0023's edit
    rollup = runpy.run_path(str(VERSIONS / "0011_run_rollup.py"))
    assert "CREATE OR REPLACE FUNCTION latency_bin(" in rollup["LATENCY_BINS"]
    assert "CREATE OR REPLACE VIEW run_partials" in rollup["RUN_PARTIALS"]
    assert "FROM run_partials WHERE final" in rollup["REBUILD"]
    codes = runpy.run_path(str(VERSIONS / "0023_run_facts_fire_times.py"))
    assert "CASE WHEN r.started_at >=" in codes["RUN_FACTS"]
    assert "o.reason_code" in codes["FIRE_TIMES"]
    assert "'reason_code', NEW.reason_code" in codes["WEBHOOK_CAPTURE"]


def _imported_modules(revision: str) -> set[str]:
    """The modules a revision's source imports (at any depth of its code)."""
    tree = ast.parse((VERSIONS / f"{revision}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("revision", REVISIONS)
def test_no_revision_imports_todays_application_code(revision: str) -> None:
    """A status list (app/core/states.py) or a token renderer (app/db/queries.py) read when the revision runs would
    make an old revision do something else after a later change of states: each revision holds its own copy."""
    live = sorted(m for m in _imported_modules(revision) if m == "app" or m.startswith("app."))
    assert not live, f"{revision} imports {live}: copy the values it needs into the revision"
