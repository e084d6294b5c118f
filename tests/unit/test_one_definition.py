"""Rules defined once: a copy elsewhere in the tree fails here (issue 15, "one definition per rule")."""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODE = ("app", "workers", "scheduler")


def _sources(*folders: str, suffix: str = ".py") -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for folder in folders
        for path in sorted((ROOT / folder).rglob(f"*{suffix}"))
        if "node_modules" not in path.parts
    }


def test_the_data_file_is_named_only_in_app_paths() -> None:
    named = [p for p, text in _sources(*CODE).items() if re.search(r"[\"']data\.parquet[\"']", text)]
    assert named == ["app/paths.py"]


def test_one_clock() -> None:
    copies = [p for p, text in _sources(*CODE).items() if re.search(r"^def (_now|utcnow)\(", text, re.M)]
    assert copies == ["app/clock.py"]


def test_all_is_assigned_once_per_module() -> None:
    twice = [p for p, text in _sources(*CODE).items() if len(re.findall(r"^__all__ = ", text, re.M)) > 1]
    assert twice == []


def test_tests_share_helpers_through_support_modules_not_other_test_modules() -> None:
    imports = [
        f"{p}: {line}"
        for p, text in _sources("tests").items()
        for line in text.splitlines()
        if re.match(r"from tests\.[\w.]*\btest_\w+ import", line)
    ]
    assert imports == []


_STATUS = r"['\"](PENDING|QUEUED|RUNNING|RETRYING|SUCCEEDED|FAILED|CANCELLED|TIMED_OUT|SKIPPED)['\"]"


def test_status_sets_are_written_only_in_states_py() -> None:
    """Two run states side by side in Python or SQL (migrations aside: history) copy a set of states.py.

    A pair of one state twice is an event's from → to (`'QUEUED', 'QUEUED'`), not a set.
    """
    files = {**_sources(*CODE), **_sources("sql/queries", "sql/views", "sql/functions", suffix=".sql")}
    copies = [
        p
        for p, text in files.items()
        if p != "app/core/states.py" and any(a != b for a, b in re.findall(rf"{_STATUS}\s*,\s*{_STATUS}", text))
    ]
    assert copies == []


def test_sql_tokens_render_from_states_and_an_unknown_one_fails() -> None:
    import pytest

    from app.db.queries import all_queries, render

    assert render("status IN ({{ACTIVE}})") == "status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRYING')"
    assert not any("{{" in body for body in all_queries().values())
    with pytest.raises(ValueError, match="unknown SQL token"):
        render("{{NOPE}}")


def _audit_writes(source: str) -> list[str]:
    """Where a module writes audit rows itself: `audit.record(...)`, an imported `record`, or an AuditEntry."""
    tree = ast.parse(source)
    audit_modules = {"audit"}  # `from app.domain import audit [as x]`, `import app.domain.audit as x`
    writers: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("app.domain", "app.domain.audit", "app.db.accounts"):
            for alias in node.names:
                if node.module == "app.domain" and alias.name == "audit":
                    audit_modules.add(alias.asname or alias.name)
                elif alias.name in ("record", "AuditEntry"):
                    writers.append(f"line {node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Import):
            audit_modules.update(a.asname for a in node.names if a.name == "app.domain.audit" and a.asname)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "record":
            if isinstance(node.value, ast.Name) and node.value.id in audit_modules:
                writers.append(f"line {node.lineno}: {node.value.id}.record")
            elif ast.unparse(node.value) == "app.domain.audit":
                writers.append(f"line {node.lineno}: app.domain.audit.record")
        elif isinstance(node, ast.Name) and node.id == "AuditEntry":
            writers.append(f"line {node.lineno}: AuditEntry")
    return writers


def test_controllers_leave_audit_rows_to_the_domain() -> None:
    """A change is audited by the domain service that makes it, so the CLI and workers audit as the API does."""
    writes = {p: w for p, text in _sources("app/api/controllers").items() if (w := _audit_writes(text))}
    assert writes == {}


def test_the_audit_write_check_sees_each_way_of_writing() -> None:
    assert _audit_writes("from app.domain import audit\naudit.record(s, c, action='x')\n") == ["line 2: audit.record"]
    assert _audit_writes("from app.domain import audit as log\nlog.record(s, c)\n") == ["line 2: log.record"]
    assert _audit_writes("from app.domain.audit import record\n") == ["line 1: imports record"]
    assert _audit_writes("import app.domain.audit\napp.domain.audit.record(s, c)\n") == [
        "line 2: app.domain.audit.record"
    ]
    assert _audit_writes("from app.db.accounts import AuditEntry\n") == ["line 1: imports AuditEntry"]
    assert _audit_writes("from app.domain import audit\naudit.list_entries(s)\n") == []


def test_controllers_leave_namespace_checks_to_the_domain() -> None:
    """Whether the caller may act in a namespace is decided by domain services (Principal.require), never here."""
    decisions = re.compile(r"\.(require|may|role_in)\(|\.roles\b|\.is_superuser\b")
    found = [
        f"{p}:{n}: {line.strip()}"
        for p, text in _sources("app/api/controllers").items()
        for n, line in enumerate(text.splitlines(), 1)
        if decisions.search(line)
    ]
    assert found == []


def _namespace_scopes(source: str) -> list[str]:
    """Lines of `source` that work out which namespaces a caller may see (the domain's job)."""
    scopes = re.compile(r"\b(namespaces_with|visible_namespace_id|visible_namespaces)\b")
    return [f"{n}: {line.strip()}" for n, line in enumerate(source.splitlines(), 1) if scopes.search(line)]


def test_controllers_leave_list_scopes_to_the_domain() -> None:
    """A list's namespaces (the caller's, or the one `?namespace=` names, 404 if unseen) come from the domain.

    app.domain.namespaces.visible_namespaces is the one rule; controllers pass the principal and the filter.
    """
    found = {p: lines for p, text in _sources("app/api/controllers").items() if (lines := _namespace_scopes(text))}
    assert found == {}


def test_the_list_scope_check_sees_each_helper() -> None:
    assert _namespace_scopes("v = principal.namespaces_with(Permission.RUNS_READ)\n") != []
    assert _namespace_scopes("from app.domain.namespaces import visible_namespace_id\n") != []
    assert _namespace_scopes("service.list_runs(session, principal, filters)\n") == []


def test_what_a_lost_redis_connection_is_is_decided_only_in_app_redis_link() -> None:
    # redis_unreachable() says it; a component that catches redis-py's ConnectionError or TimeoutError itself
    # would decide it a second time (and log its outage its own way)
    copies = [
        p
        for p, text in _sources(*CODE).items()
        if re.search(r"\bredis\.(exceptions\.)?(ConnectionError|TimeoutError)\b", text) and p != "app/redis_link.py"
    ]
    assert copies == []
