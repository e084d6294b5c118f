"""Amounts written with a currency sign, as Chinese bills and bank exports write them: `¥1,234.56`, `￥-20.00`,
`-¥20.00`, `1,234.56元`.

One rule, for CSV (in DuckDB SQL) and workbooks (in Python) alike: in a column typed as a number (integer, float,
decimal), a value that is a number with a leading ¥/￥ (a sign before or after it) or a trailing 元 is read
without them, and without ',' between thousands (or the configured `thousands_separator`). Text columns keep
their values as written; anything else in a number column fails to convert as before.
"""

from __future__ import annotations

import re

from app.ingest.config import ImportConfig
from app.ingest.duck import literal

#: Column types whose values are read through the rule.
NUMBER_TYPES = ("integer", "float", "decimal")
#: A number with a currency sign: groups 1+2 (sign, ¥/￥, number) or 3 (number, 元). RE2 and Python alike.
MONEY = r"^([+-]?)\s*[¥￥]\s*([+-]?[0-9][0-9.,]*)$|^([+-]?[0-9][0-9.,]*)\s*元$"
#: The number a MONEY match keeps (unmatched groups are empty).
KEEP = r"\1\2\3"
#: Any currency mark, to tell a money column from one of plain numbers.
MARK = "[¥￥元]"
_MONEY = re.compile(MONEY)


def group_separator(config: ImportConfig) -> str | None:
    """The separator left out between thousands of an amount: the configured one, else ',' (unless ',' is the
    decimal separator)."""
    if config.thousands_separator:
        return config.thousands_separator
    return None if config.decimal_separator == "," else ","


def strip_currency(text: str, config: ImportConfig) -> str | None:
    """`text` without its currency sign and thousands separators when it is an amount MONEY matches, else None."""
    match = _MONEY.match(text.strip())
    if match is None:
        return None
    number = match.expand(KEEP)
    separator = group_separator(config)
    return number.replace(separator, "") if separator else number


def currency_sql(expr: str, config: ImportConfig) -> str:
    """SQL for `expr` (text) with `strip_currency` applied where it matches, else `expr` trimmed."""
    value = f"trim({expr})"
    number = f"regexp_replace({value}, {literal(MONEY)}, {literal(KEEP)})"
    separator = group_separator(config)
    if separator:
        number = f"replace({number}, {literal(separator)}, '')"
    if config.decimal_separator == ",":
        number = f"replace({number}, ',', '.')"
    return f"CASE WHEN regexp_full_match({value}, {literal(MONEY)}) THEN {number} ELSE {value} END"
