"""The `validate` step: data-quality rules counted in one scan of a materialised relation, with samples.

Nulls break only `not_null`; the other column rules look at non-null values. `unique` counts the rows beyond the
first of each key (nulls are a key value like any other).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from app.core.run_notices import RuleChecked, rule_outcome
from app.ingest.duck import ident, literal
from app.pipeline.models import RuleReport, StepValidation
from app.pipeline.relations import Relations
from app.pipeline.spec import (
    InSetRule,
    NotNullRule,
    RangeRule,
    RegexRule,
    ResolvedStep,
    RowCountRule,
    UniqueRule,
    ValidateStep,
)

Rule = NotNullRule | UniqueRule | InSetRule | RangeRule | RegexRule | RowCountRule


def rule_name(rule: Rule) -> str:
    return str(type(rule).__struct_config__.tag)  # type: ignore[attr-defined]


def rule_columns(rule: Rule) -> list[str]:
    if isinstance(rule, NotNullRule | UniqueRule):
        return list(rule.columns)
    if isinstance(rule, RowCountRule):
        return []
    return [rule.column]


def violation_predicate(rule: Rule) -> str | None:
    """A predicate true for each row that breaks `rule` (None for rules about the whole relation)."""
    if isinstance(rule, NotNullRule):
        return " OR ".join(f"{ident(column)} IS NULL" for column in rule.columns)
    if isinstance(rule, InSetRule):
        values = ", ".join(literal(value) for value in rule.values)
        return f"{ident(rule.column)} IS NOT NULL AND {ident(rule.column)} NOT IN ({values})"
    if isinstance(rule, RangeRule):
        column = ident(rule.column)
        bounds = []
        if rule.min is not None:
            bounds.append(f"{column} < {literal(rule.min)}")
        if rule.max is not None:
            bounds.append(f"{column} > {literal(rule.max)}")
        return " OR ".join(bounds)
    if isinstance(rule, RegexRule):
        column = ident(rule.column)
        return f"{column} IS NOT NULL AND NOT regexp_full_match(CAST({column} AS VARCHAR), {literal(rule.pattern)})"
    return None


def count_expression(rule: Rule) -> str:
    """An aggregate over the relation giving the rule's number of violations (row_count: the row count)."""
    if isinstance(rule, UniqueRule):
        key = ", ".join(ident(column) for column in rule.columns)
        return f"count(*) - count(DISTINCT row({key}))"
    if isinstance(rule, RowCountRule):
        return "count(*)"
    return f"count(*) FILTER (WHERE {violation_predicate(rule)})"


def check(relations: Relations, resolved: ResolvedStep) -> tuple[int, StepValidation]:
    """Materialise the step's input (unless it already is a table), count each rule's violations in one scan,
    and fetch samples for the rules that are broken. Returns (rows, report); raising is the caller's call."""
    step: ValidateStep = resolved.step
    source = resolved.input
    assert source is not None  # resolve_steps gives every RelationalStep an input
    name = ident(resolved.id)
    with relations.step_errors(resolved):
        if relations.is_table(source):
            relations.conn.execute(f"CREATE VIEW {name} AS SELECT * FROM {ident(source)}").fetchall()
        else:
            relations.execute(f"CREATE TABLE {name} AS SELECT * FROM {ident(source)}")
        counts = relations.execute(
            f"SELECT count(*), {', '.join(count_expression(rule) for rule in step.rules)} FROM {name}"
        )[0]
        rows = int(counts[0])
        reports = [
            _report(relations, name, rule, int(found or 0), step.sample_size)
            for rule, found in zip(step.rules, counts[1:], strict=True)
        ]
    relations.note(resolved.id, rows, views=(), table=True)
    passed = all(report.passed or report.severity == "warn" for report in reports)
    return rows, StepValidation(step=resolved.id, rows=rows, passed=passed, rules=reports)


def checked(step: ValidateStep, report: StepValidation) -> list[RuleChecked]:
    """The step's rules as its log lines' notices, so a console words them in its language: what each found
    (a `row_count` rule found the step's row count, within its bounds or not)."""
    return [
        RuleChecked(
            step=report.step,
            rule=reported.rule,
            columns=reported.columns,
            severity=reported.severity,
            passed=reported.passed,
            found=report.rows if isinstance(rule, RowCountRule) else reported.violations,
            min=rule.min if isinstance(rule, RowCountRule) else None,
            max=rule.max if isinstance(rule, RowCountRule) else None,
        )
        for rule, reported in zip(step.rules, report.rules, strict=True)
    ]


def _report(relations: Relations, relation: str, rule: Rule, found: int, sample_size: int) -> RuleReport:
    columns = rule_columns(rule)
    if isinstance(rule, RowCountRule):
        low, high = rule.min, rule.max
        broken = (low is not None and found < low) or (high is not None and found > high)
        return RuleReport(
            rule=rule_name(rule),
            severity=rule.severity,
            columns=columns,
            violations=int(broken),
            passed=not broken,
            message=rule_outcome(rule_name(rule), found, low, high),
        )
    sample: list[dict[str, Any]] = []
    if found and sample_size:
        keys = ", ".join(ident(column) for column in columns)
        if isinstance(rule, UniqueRule):
            query = (
                f"SELECT {keys}, count(*) AS rows FROM {relation} GROUP BY {keys} HAVING count(*) > 1 "
                f"ORDER BY count(*) DESC LIMIT {sample_size}"
            )
            names = [*columns, "rows"]
        else:
            query = f"SELECT {keys} FROM {relation} WHERE {violation_predicate(rule)} LIMIT {sample_size}"
            names = columns
        sample = [dict(zip(names, map(_plain, row), strict=True)) for row in relations.execute(query)]
    return RuleReport(
        rule=rule_name(rule),
        severity=rule.severity,
        columns=columns,
        violations=found,
        passed=found == 0,
        message=rule_outcome(rule_name(rule), found),
        sample=sample,
    )


def _plain(value: Any) -> Any:
    """A sample value as JSON can hold it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)
