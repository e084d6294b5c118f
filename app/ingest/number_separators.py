"""Number separators a preview suggests for text columns of numbers: a thousands separator for `1,234.50`, and a
decimal comma (with '.' between thousands) for a semicolon CSV's `1.234,50`."""

from __future__ import annotations

import re
from typing import Any

from app.ingest.config import ImportConfig
from app.ingest.models import Suggestion
from app.ingest.money import plain_number
from app.ingest.notices import note
from app.ingest.notices.suggestions import DecimalComma, Example, ThousandsSeparator

#: A number with ',' between thousands: `1,234.50`.
GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$", re.ASCII)
#: A plain number: `1234.50`.
PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$", re.ASCII)
#: A number written the European way, `1.234,50`, `12,5` or `99`: '.' between thousands, ',' before decimals.
COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$", re.ASCII)


def thousands_separator(columns: list[tuple[str, list[Any]]], config: ImportConfig) -> Suggestion | None:
    """`thousands_separator=","` when text columns hold nothing but numbers, some written `1,234.50` (how 金蝶,
    用友 and bank exports write amounts, as text): with it set they import as numbers."""
    if config.thousands_separator or config.decimal_separator not in (None, "."):
        return None
    nulls = set(config.null_values or ())
    named = []
    for name, values in columns:
        example = grouped_example(values, nulls, config)
        if example is not None:
            named.append(Example(column=name, example=example))
    if not named:
        return None
    return Suggestion(field="thousands_separator", value=",", reason=note(ThousandsSeparator(columns=named)))


def decimal_comma(
    columns: list[tuple[str, list[Any]]], config: ImportConfig, delimiter: str | None
) -> list[Suggestion]:
    """`decimal_separator=","` (and `thousands_separator="."` where a number groups thousands) for a semicolon CSV
    whose text columns hold nothing but numbers, some written `1.234,50` or `12,5`, as European and German-locale
    Excel exports write them: with them set the columns import as numbers."""
    if delimiter != ";" or config.decimal_separator or config.thousands_separator:
        return []
    nulls = set(config.null_values or ())
    named, grouped = [], False
    for name, values in columns:
        texts = [t for v in values if isinstance(v, str) and v not in nulls and (t := v.strip())]
        if not texts or not all(COMMA_DECIMAL.match(t) for t in texts):
            continue
        example = next((t for t in texts if "," in t), None)
        if example is not None:
            named.append(Example(column=name, example=example))
            grouped = grouped or any("." in t for t in texts)
    if not named:
        return []
    reason = note(DecimalComma(columns=named))
    found = [Suggestion(field="decimal_separator", value=",", reason=reason)]
    return found + ([Suggestion(field="thousands_separator", value=".", reason=reason)] if grouped else [])


def grouped_example(values: list[Any], nulls: set[str], config: ImportConfig) -> str | None:
    """The first text written `1,234.50` when every text of the column is a number, grouped or plain; else None.
    It stops at the first text that is neither (a column of words costs one look, not one per cell)."""
    example = None
    for value in values:
        if not isinstance(value, str) or value in nulls or not (text := value.strip()):
            continue
        if GROUPED.match(text):
            example = example or text
        elif not PLAIN.match(text) and plain_number(text, config) is None:  # an amount (¥1,234.50, 1.2万) counts
            return None
    return example
