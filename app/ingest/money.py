"""Numbers written as text the way Chinese bills, bank exports and spreadsheets write them: amounts with a
currency sign (`¥1,234.56`, `￥-20.00`, `-¥20.00`, `1,234.56元`), percentages (`12.5%`), accounting negatives
(`(1,234.50)`), any of them in full-width characters (U+FF10-U+FF19 digits and their signs, as a Chinese input
method types them in full-width mode), and the zero of the accounting format (会计专用, `_ ¥* "-"??_ `), which
Excel and WPS show and save as CSV as `¥ -`.

One rule, for CSV (in DuckDB SQL) and workbooks (in Python) alike: in a column typed as a number (integer, float,
decimal), a value that is a number with a leading ¥/￥ (a sign before or after it) or a trailing 元 is read
without them, a number with a trailing % as its hundredth (12.5% is 0.125, as Excel stores a percent cell), and
a number in parentheses as its negative, a number in full-width characters as the same in ASCII; all without
',' between thousands (or the configured
`thousands_separator`). Text columns keep their values as written; anything else in a number column fails to
convert as before.
"""

from __future__ import annotations

import decimal
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
#: A percentage: group 1 is the number. RE2 and Python alike.
PERCENT = r"^([+-]?[0-9][0-9.,]*)\s*%$"
#: An accounting negative, (1,234.50): group 1 is the number. RE2 and Python alike.
NEGATIVE = r"^\(\s*([0-9][0-9.,]*)\s*\)$"
#: The accounting format's zero, `¥ -` (its dash in the place of the digits). RE2 and Python alike.
ZERO = r"^[¥￥]\s*-+$"
#: A number, after full-width characters are made ASCII (FULL_WIDTH → HALF_WIDTH). RE2 and Python alike.
PLAIN = r"^[+-]?[0-9][0-9.,]*$"
HALF_WIDTH = "0123456789.,-+%()"
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in HALF_WIDTH)  # U+FF01-U+FF5E mirror ASCII '!'-'~'
_HALF = str.maketrans(FULL_WIDTH, HALF_WIDTH)
_MONEY = re.compile(MONEY)
_PLAIN = re.compile(PLAIN)
_NEGATIVE = re.compile(NEGATIVE)
_PERCENT = re.compile(PERCENT)
_ZERO = re.compile(ZERO)


def group_separator(config: ImportConfig) -> str | None:
    """The separator left out between thousands of an amount: the configured one, else ',' (unless ',' is the
    decimal separator)."""
    if config.thousands_separator:
        return config.thousands_separator
    return None if config.decimal_separator == "," else ","


def plain_number(text: str, config: ImportConfig) -> str | None:
    """`text` as a plain number when it is an amount MONEY matches, an accounting negative or a number in full-width
    characters (without currency sign and thousands separators; the decimal separator as configured), or a
    percentage (its hundredth, with a '.' point); else None."""
    separator = group_separator(config)
    written = text.strip()
    value = written.translate(_HALF)
    match = _MONEY.match(value)
    if match is not None:
        number = match.expand(KEEP)
        return number.replace(separator, "") if separator else number
    match = _NEGATIVE.match(value)
    if match is not None:
        return "-" + (match[1].replace(separator, "") if separator else match[1])
    if _ZERO.match(value):
        return "0"
    if value != written and _PLAIN.match(value):
        return value.replace(separator, "") if separator else value
    match = _PERCENT.match(value)
    if match is None:
        return None
    number = match[1].replace(separator, "") if separator else match[1]
    if config.decimal_separator and config.decimal_separator != ".":
        number = number.replace(config.decimal_separator, ".")
    try:
        return format(decimal.Decimal(number).scaleb(-2), "f")
    except decimal.InvalidOperation:
        return None


def _half_sql(expr: str) -> str:
    """SQL for `expr` (text) trimmed, its full-width characters made ASCII."""
    return f"translate(trim({expr}), {literal(FULL_WIDTH)}, {literal(HALF_WIDTH)})"


def changed_sql(expr: str) -> str:
    """SQL: whether `plain_number` reads `expr` (text) as another number than it spells (a CSV column's sample
    holding one is read through `plain_number_sql`)."""
    value = _half_sql(expr)
    return (
        f"(regexp_matches({expr}, {literal(MARK)}) AND regexp_full_match({value}, {literal(MONEY)}))"
        f" OR regexp_full_match({value}, {literal(ZERO)})"
        f" OR regexp_full_match({value}, {literal(PERCENT)}) OR regexp_full_match({value}, {literal(NEGATIVE)})"
        f" OR ({value} <> trim({expr}) AND regexp_full_match({value}, {literal(PLAIN)}))"
    )


def plain_number_sql(expr: str, config: ImportConfig) -> str:
    """SQL for `expr` (text) with `plain_number` applied where it matches, else `expr` trimmed (with ',' as the
    decimal point when configured so)."""
    written, value = f"trim({expr})", _half_sql(expr)
    number = f"regexp_replace({value}, {literal(MONEY)}, {literal(KEEP)})"
    percent = f"regexp_extract({value}, {literal(PERCENT)}, 1)"
    negative = f"'-' || regexp_extract({value}, {literal(NEGATIVE)}, 1)"
    plain = value
    separator = group_separator(config)
    parts = (number, percent, negative, plain)
    if separator:
        parts = tuple(f"replace({n}, {literal(separator)}, '')" for n in parts)
    if config.decimal_separator == ",":
        parts = tuple(f"replace({n}, ',', '.')" for n in parts)
    number, percent, negative, plain = parts
    # exact, as Python's scaleb(-2); a number that is none (1.2.3%) stays as written, for the cast to name it
    hundredth = f"coalesce(CAST(TRY_CAST({percent} AS DECIMAL(38, 16)) * 0.01 AS VARCHAR), {written})"
    # anything else as the workbook converter reads it (convert.Converter._number_text): without the configured
    # thousands separator, with ',' as the decimal point when configured so ("2,000.00", "12,5")
    rest = written
    if config.thousands_separator:
        rest = f"replace({rest}, {literal(config.thousands_separator)}, '')"
    if config.decimal_separator == ",":
        rest = f"replace({rest}, ',', '.')"
    return (
        f"CASE WHEN regexp_full_match({value}, {literal(MONEY)}) THEN {number} "
        f"WHEN regexp_full_match({value}, {literal(NEGATIVE)}) THEN {negative} "
        f"WHEN regexp_full_match({value}, {literal(ZERO)}) THEN '0' "
        f"WHEN {value} <> {written} AND regexp_full_match({value}, {literal(PLAIN)}) THEN {plain} "
        f"WHEN regexp_full_match({value}, {literal(PERCENT)}) THEN {hundredth} ELSE {rest} END"
    )
