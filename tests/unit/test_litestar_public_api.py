"""The app uses Litestar's route handlers through their public API: a private attribute can change in any release."""

from __future__ import annotations

import ast
import pathlib

from litestar.handlers import HTTPRouteHandler

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _private_handler_attributes() -> set[str]:
    slots = (s for cls in HTTPRouteHandler.__mro__ for s in getattr(cls, "__slots__", ()))
    return {s for s in slots if s.startswith("_") and not s.startswith("__")}


def test_no_code_touches_a_private_attribute_of_a_route_handler() -> None:
    """app/api/dropped_connections.py replaced `handler._fn` to retry a handler (now `handler(fn)`, the decorator)."""
    private = _private_handler_attributes()
    assert "_fn" in private  # the scan looks for the right names
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}"
        for folder in ("app", "workers", "scheduler")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert found == []
