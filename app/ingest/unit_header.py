"""A column whose header names a unit of 万 or 亿 (金额(万元), in either brackets) while its cells carry the unit
themselves (1.25万): the cells read as whole amounts (12500) beside plain ones read as written (500), so the
header's unit and the cells' disagree for some of them; the preview says so, naming the column."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from app.ingest.columns import Planned
from app.ingest.money import SCALED
from app.ingest.notices import note
from app.ingest.notices.columns import UnitClash

#: A header that names a unit of 万 or 亿: 金额(万元) in ASCII or full-width brackets, 收入(万), 销售额万元,
#: 单位:亿元; group 1 or 2 is the unit.
UNIT_HEADER = re.compile(r"[\uff08(]\s*(万|亿)元?\s*[)\uff09]|(万|亿)元")
_SCALED = re.compile(SCALED)


def header_unit(name: str) -> str | None:
    """The unit (万 or 亿) a header names, or None."""
    found = UNIT_HEADER.search(name)
    return None if found is None else found[1] or found[2]


def unit_clash_warnings(planned: Sequence[Planned], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A notice for each shown column whose header names 万 or 亿 and some of whose text cells carry 万 or 亿
    themselves (`rows` hold the included columns in order, as the preview reads them)."""
    warnings = []
    for position, p in enumerate(q for q in planned if q.include):
        unit = header_unit(p.source)
        if unit is None:
            continue
        texts = [t for row in rows if isinstance(row[position], str) and (t := row[position].strip())]
        scaled = [t for t in texts if _SCALED.match(t)]
        if scaled:
            plain = next((t for t in texts if not _SCALED.match(t)), None)
            warnings.append(note(UnitClash(column=p.name, unit=f"{unit}元", example=scaled[0], plain=plain)))
    return warnings
