"""Numbers written as text the way Chinese bills, bank exports and spreadsheets write them: amounts with a
currency sign or code (`¥1,234.56`, `￥-20.00`, `-¥20.00`, `1,234.56元`, `RMB 1,234.50`, `CNY1,234.50`), percentages
(`12.5%`), accounting negatives (`(1,234.50)`, `¥(1,234.00)`, `(12.5%)`) and SAP's trailing minus (`1,234.50-`), any
of them in full-width characters (U+FF10-U+FF19 digits and their signs, as a Chinese input
method types them in full-width mode), and the zero of the accounting format (会计专用, `_ ¥* "-"??_ `), which
Excel and WPS show and save as CSV as `¥ -`.

One rule, for CSV (in DuckDB SQL) and workbooks (in Python) alike: in a column typed as a number (integer, float,
decimal), a value that is a number with a leading ¥/￥/RMB/CNY (a sign before or after it; 元 after it too) or a
trailing 元/RMB/CNY is read without them, a number with a trailing % as its hundredth (12.5% is 0.125, as Excel stores a
percent cell), and an unsigned one of these in parentheses (a currency sign before them or inside) or followed by a
'-' as its negative, a number in full-width characters as the same in ASCII; all without ',' between thousands (or
the configured `thousands_separator`). Text columns keep their values as written; anything else in a number column
fails to convert as before.
"""

from __future__ import annotations

import decimal
import re

from app.ingest.config import ImportConfig
from app.ingest.duck import literal

#: Column types whose values are read through the rule.
NUMBER_TYPES = ("integer", "float", "decimal")
#: A currency sign or code written before an amount.
SIGN = "(?:[¥￥]|RMB|CNY)"
#: A number with a currency sign: groups 1+2 (sign, ¥/￥/RMB/CNY, number, perhaps 元 after it too: ￥1,000.00元) or 3
#: (number, 元/RMB/CNY). RE2 and Python alike.
MONEY = rf"^([+-]?)\s*{SIGN}\s*([+-]?[0-9][0-9.,]*)(?:\s*元)?$|^([+-]?[0-9][0-9.,]*)\s*(?:元|RMB|CNY)$"
#: The number a MONEY match keeps (unmatched groups are empty).
KEEP = r"\1\2\3"
#: Any currency mark, to tell a money column from one of plain numbers.
MARK = "[¥￥元]|RMB|CNY"
#: A percentage: group 1 is the number. RE2 and Python alike.
PERCENT = r"^([+-]?[0-9][0-9.,]*)\s*%$"
_UNSIGNED = rf"{SIGN}?\s*[0-9][0-9.,]*\s*%?"
#: A negative: an unsigned number, amount or percentage in accounting parentheses, (1,234.50), ¥(1,234.00),
#: (¥1,234.00), (12.5%), or followed by SAP's '-', 1,234.50-; groups 1+2+3 (KEEP) are what is negated. RE2 and
#: Python alike.
NEGATIVE = rf"^({SIGN}?)\s*\(\s*({_UNSIGNED})\s*\)$|^()({_UNSIGNED})\s*-$"
#: What a NEGATIVE match negates.
NEGATED = r"\1\2\3\4"
#: The accounting format's zero, `¥ -` (its dash in the place of the digits). RE2 and Python alike.
ZERO = rf"^{SIGN}\s*-+$"
#: A number of 万 (ten thousand) or 亿 (a hundred million), as Chinese reports and bank exports write large
#: amounts (1.2万, 3亿元): group 1 is the number, 2 the unit. RE2 and Python alike.
SCALED = r"^([+-]?[0-9][0-9.,]*)\s*(万|亿)元?$"
#: The power of ten of each unit.
UNITS = {"万": 4, "亿": 8}
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
_SCALED = re.compile(SCALED)


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
    written = text.strip()
    value = written.translate(_HALF)
    match = _NEGATIVE.match(value)
    if match is not None:
        number = _unsigned(match.expand(NEGATED).strip(), config)
        return None if number is None else "-" + number
    if _ZERO.match(value):
        return "0"
    if scaled := _SCALED.match(value):
        return _scaled(scaled[1], UNITS[scaled[2]], config)
    if value != written or _MONEY.match(value):
        return _unsigned(value, config)
    return _percent(value, config)


def _unsigned(value: str, config: ImportConfig) -> str | None:
    """`value` (ASCII) as a plain number when it is an amount MONEY matches, a number or a percentage."""
    separator = group_separator(config)
    match = _MONEY.match(value)
    if match is not None:
        number = match.expand(KEEP)
        return number.replace(separator, "") if separator else number
    if _PLAIN.match(value):
        return value.replace(separator, "") if separator else value
    return _percent(value, config)


def _scaled(number: str, power: int, config: ImportConfig) -> str | None:
    """`number` (a SCALED match's) times ten to `power`, with a '.' point; None where it reads no number."""
    separator = group_separator(config)
    number = number.replace(separator, "") if separator else number
    if config.decimal_separator and config.decimal_separator != ".":
        number = number.replace(config.decimal_separator, ".")
    try:
        return format(decimal.Decimal(number).scaleb(power), "f")
    except decimal.InvalidOperation:
        return None


def _percent(value: str, config: ImportConfig) -> str | None:
    """A percentage `value` as its hundredth, with a '.' point; else None."""
    separator = group_separator(config)
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
        f" OR regexp_full_match({value}, {literal(SCALED)})"
        f" OR ({value} <> trim({expr}) AND regexp_full_match({value}, {literal(PLAIN)}))"
    )


def plain_number_sql(expr: str, config: ImportConfig) -> str:
    """SQL for `expr` (text) with `plain_number` applied where it matches, else `expr` trimmed (with ',' as the
    decimal point when configured so)."""
    written, value = f"trim({expr})", _half_sql(expr)
    # anything else as the workbook converter reads it (convert.Converter._number_text): without the configured
    # thousands separator, with ',' as the decimal point when configured so ("2,000.00", "12,5"); a number that is
    # none (1.2.3%, (1.2.3)) stays so, for the cast to name it
    rest = written
    if config.thousands_separator:
        rest = f"replace({rest}, {literal(config.thousands_separator)}, '')"
    if config.decimal_separator == ",":
        rest = f"replace({rest}, ',', '.')"
    negated = f"trim(regexp_replace({value}, {literal(NEGATIVE)}, {literal(NEGATED)}))"
    return (
        f"CASE WHEN regexp_full_match({value}, {literal(NEGATIVE)}) "
        f"THEN coalesce('-' || {_unsigned_sql(negated, config)}, {rest}) "
        f"WHEN regexp_full_match({value}, {literal(ZERO)}) THEN '0' "
        f"WHEN regexp_full_match({value}, {literal(SCALED)}) THEN coalesce({_scaled_sql(value, config)}, {rest}) "
        f"WHEN {value} <> {written} OR regexp_full_match({value}, {literal(MONEY)}) "
        f"THEN coalesce({_unsigned_sql(value, config)}, {rest}) "
        f"WHEN regexp_full_match({value}, {literal(PERCENT)}) THEN coalesce({_percent_sql(value, config)}, {rest}) "
        f"ELSE {rest} END"
    )


def _unsigned_sql(value: str, config: ImportConfig) -> str:
    """SQL of `_unsigned` for `value` (ASCII text): NULL where it reads no number."""
    number, plain = f"regexp_replace({value}, {literal(MONEY)}, {literal(KEEP)})", value
    return (
        f"CASE WHEN regexp_full_match({value}, {literal(MONEY)}) THEN {_separated(number, config)} "
        f"WHEN regexp_full_match({value}, {literal(PLAIN)}) THEN {_separated(plain, config)} "
        f"ELSE {_percent_sql(value, config)} END"
    )


def _scaled_sql(value: str, config: ImportConfig) -> str:
    """SQL of `_scaled` for `value` (ASCII text, a SCALED match): NULL where it reads no number."""
    number = _separated(f"regexp_extract({value}, {literal(SCALED)}, 1)", config)
    unit = f"regexp_extract({value}, {literal(SCALED)}, 2)"
    factor = f"CASE {unit} WHEN '万' THEN 10000 ELSE 100000000 END"
    return f"CAST(TRY_CAST({number} AS DECIMAL(38, 16)) * {factor} AS VARCHAR)"


def _percent_sql(value: str, config: ImportConfig) -> str:
    """SQL of `_percent` for `value` (ASCII text): exact, as Python's scaleb(-2); NULL where it reads no number."""
    number = _separated(f"regexp_extract({value}, {literal(PERCENT)}, 1)", config)
    return f"CAST(TRY_CAST({number} AS DECIMAL(38, 16)) * 0.01 AS VARCHAR)"


def _separated(number: str, config: ImportConfig) -> str:
    """SQL for `number` without the thousands separator, with '.' as its point."""
    separator = group_separator(config)
    if separator:
        number = f"replace({number}, {literal(separator)}, '')"
    return f"replace({number}, ',', '.')" if config.decimal_separator == "," else number
