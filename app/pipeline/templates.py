"""A tiny, safe template language for the few spec fields that allow it (no jinja, no eval).

`{{ params.<name> }}` and `{{ run.<field> }}` are the only lookups; `| date` is the only filter (a date or datetime
rendered as `YYYY-MM-DD`). Anything else between `{{` and `}}` is an error found when the spec is parsed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

#: Fields of `run` a template may name; `scheduled_for` falls back to `started_at` for a run started by hand.
RUN_FIELDS = ("id", "scheduled_for", "started_at")

#: Longest text a template renders to: what a log message may hold as written. `{{ params.x }}` 700 times over a
#: 60 KB parameter rendered one 42 MB log line, which the run's log, its live stream and GET …/logs carried whole.
MAX_RENDERED_CHARS = 10_000

#: One `{{ ... }}` placeholder (its inside is checked by `_EXPRESSION`).
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_EXPRESSION = re.compile(r"^\s*(params|run)\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([A-Za-z_]+)\s*)?$")
#: What looks like an attempt at a template in a field that does not allow one.
LOOKS_TEMPLATED = re.compile(r"\{\{\s*(params|run)\s*\.")


class TemplateError(ValueError):
    """A template that does not parse, names an unknown lookup, or has no value to render."""


def references(template: str) -> list[tuple[str, str, str | None]]:
    """The (scope, name, filter) of each placeholder, or TemplateError when one is not allowed."""
    found = []
    for match in _PLACEHOLDER.finditer(template):
        expression = _EXPRESSION.match(match[1])
        if expression is None:
            raise TemplateError(f"{match[0]!r} is not a template; use {{{{ params.<name> }}}} or {{{{ run.<field> }}}}")
        scope, name, filter_ = expression.groups()
        if filter_ is not None and filter_ != "date":
            raise TemplateError(f"unknown filter {filter_!r} in {match[0]!r}; the only filter is `date`")
        if scope == "run" and name not in RUN_FIELDS:
            raise TemplateError(f"unknown run field {name!r}; use one of {', '.join(RUN_FIELDS)}")
        found.append((scope, name, filter_))
    rest = _PLACEHOLDER.sub("", template)
    if "{{" in rest or "}}" in rest:
        raise TemplateError("unbalanced `{{` or `}}`")
    return found


def check(template: str, params: Mapping[str, Any]) -> None:
    """Raise TemplateError unless every placeholder parses and names a declared parameter or a run field."""
    declared = {name.lower() for name in params}
    for scope, name, _ in references(template):
        if scope == "params" and name.lower() not in declared:
            raise TemplateError(f"unknown parameter {name!r}; declare it under `params`")


def render(template: str, *, params: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """The template with each placeholder replaced by its value (params are looked up case-insensitively), cut at
    MAX_RENDERED_CHARS with a note of how much was left out."""
    references(template)
    lowered = {name.lower(): value for name, value in params.items()}

    def value_of(match: re.Match[str]) -> str:
        expression = _EXPRESSION.match(match[1])
        assert expression is not None  # references() checked every placeholder
        scope, name, filter_ = expression.groups()
        if scope == "params":
            if name.lower() not in lowered:
                raise TemplateError(f"unknown parameter {name!r}")
            value = lowered[name.lower()]
        else:
            value = run.get(name)
            if value is None and name == "scheduled_for":
                value = run.get("started_at")
        if value is None:
            raise TemplateError(f"{scope}.{name} has no value to render")
        return _text(value, filter_)

    text = _PLACEHOLDER.sub(value_of, template)
    if len(text) > MAX_RENDERED_CHARS:
        return f"{text[:MAX_RENDERED_CHARS]}… ({len(text) - MAX_RENDERED_CHARS} more characters cut)"
    return text


def _text(value: Any, filter_: str | None) -> str:
    if filter_ == "date":
        if isinstance(value, dt.datetime | dt.date):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d")
            except ValueError:
                raise TemplateError(f"{value!r} is not a date") from None
        raise TemplateError(f"{value!r} is not a date")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(item, None) for item in value)
    return str(value)
