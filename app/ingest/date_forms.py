"""Dates as Chinese bills, bank statements and ERP exports write them, and the formats that read them: what the
preview suggests for a column of them (app.ingest.suggest.column_types)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

#: Chinese dates and times as bills and bank statements write them, with the format that reads them.
CHINESE_DATES = (
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"), "date", "%Y年%m月%d日"),
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}:\d{2}$"), "datetime", "%Y年%m月%d日 %H:%M:%S"),
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}$"), "datetime", "%Y年%m月%d日 %H:%M"),
    # a month, as monthly reports and payroll sheets head their rows: read as its first day
    (re.compile(r"^\d{4}年\d{1,2}月$"), "date", "%Y年%m月"),
)

#: Dates as Chinese exports write them, several ways in one column, with the format that reads each: a column
#: of more than one is suggested as a date with all of them (a CSV column of them is read as text, converted by them).
DATE_FORMS = (
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"), "%Y年%m月%d日"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "%Y/%m/%d"),
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}$"), "%Y.%m.%d"),
    (re.compile(r"^\d{8}$"), "%Y%m%d"),
)


def mixed_date_formats(texts: list[str]) -> list[str] | None:
    """The formats, in DATE_FORMS order, of a column whose every text is a date in one of DATE_FORMS and that uses
    more than one of them; else None."""
    seen: set[str] = set()
    for text in texts:
        form = next((form for pattern, form in DATE_FORMS if pattern.match(text)), None)
        if form is None:
            return None
        seen.add(form)
    return [form for _, form in DATE_FORMS if form in seen] if len(seen) > 1 else None


#: The format of a date written as eight digits (20240105), and the years such a number is taken to be a date in.
DIGIT_DATE, DIGIT_DATE_YEARS = "%Y%m%d", range(1900, 2101)


def digit_date(value: Any) -> bool:
    """Whether a number cell is a date written as eight digits (DIGIT_DATE) in DIGIT_DATE_YEARS."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not value.is_integer():  # 20240105.5, inf, nan
        return False
    year, month_day = divmod(int(value), 10_000)
    if year not in DIGIT_DATE_YEARS:
        return False
    try:
        dt.date(year, *divmod(month_day, 100))
    except ValueError:
        return False
    return True
