"""Pipeline parameters: check the values a run is given against the declared types and coerce them.

Values come from JSON (or a CLI), so dates and datetimes arrive as ISO strings and numbers may arrive as text;
each is turned into the Python value DuckDB binds to `$name` (date, datetime, int, float, bool, str, list).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

import msgspec

from app.core.errors import InvalidInput

ScalarType = Literal["string", "integer", "float", "boolean", "date", "datetime"]
ParamType = Literal[
    "string",
    "integer",
    "float",
    "boolean",
    "date",
    "datetime",
    "list[string]",
    "list[integer]",
    "list[float]",
    "list[boolean]",
    "list[date]",
    "list[datetime]",
]
PARAM_TYPES: tuple[str, ...] = get_args(ParamType)

#: A value of each type used to bind a parameter that has no value yet (validating a draft reads no data).
STAND_INS: dict[str, Any] = {
    "string": "",
    "integer": 0,
    "float": 0.0,
    "boolean": False,
    "date": dt.date(2000, 1, 1),
    "datetime": dt.datetime(2000, 1, 1),
}


#: An integer parameter is a DuckDB BIGINT: a larger value failed inside DuckDB (validate answered 500).
INTEGER_RANGE = range(-(2**63), 2**63)


class InvalidPipelineParams(InvalidInput):
    """Run parameters that are unknown, missing or of the wrong type (422); `errors` names each one."""

    code = "invalid_pipeline_params"


def coerce(kind: str, value: Any) -> Any:
    """`value` as the Python value of parameter type `kind`, or ValueError saying why not (None stays None)."""
    if value is None:
        return None
    if kind.startswith("list["):
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list of {kind[5:-1]}")
        return [_SCALARS[kind[5:-1]](item) for item in value]
    return _SCALARS[kind](value)


def stand_in(kind: str) -> Any:
    """A placeholder value of type `kind`, for binding SQL when the real value is not known."""
    return [STAND_INS[kind[5:-1]]] if kind.startswith("list[") else STAND_INS[kind]


def ignored(declared: Mapping[str, Any] | None) -> bool:
    """Whether a run's given parameters are ignored: its pipeline declares none, so nothing can refer to them (a
    template naming one is refused when the pipeline is created). The worker logs a warning; a submit lets them be."""
    return not declared


def resolve(declared: Mapping[str, Any], given: Mapping[str, Any], *, require_all: bool = True) -> dict[str, Any]:
    """The value of every declared parameter (`declared` maps names to ParamSpec): given values coerced, defaults
    filled in. Unknown names, wrong types and (when `require_all`) missing values raise InvalidPipelineParams.
    Names match case-insensitively, as `$name` does in DuckDB; keys of the result are the declared names."""
    by_lower = {name.lower(): name for name in declared}
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for name, value in given.items():
        target = by_lower.get(str(name).lower())
        if target is None:
            errors.append(
                _error(name, f"unknown parameter; declared: {', '.join(declared) or 'none'}", "unknown_param")
            )
            continue
        if target in seen:
            errors.append(_error(name, "given twice (names are case-insensitive)", "duplicate_param"))
            continue
        seen.add(target)
        try:
            values[target] = coerce(declared[target].type, value)
        except (ValueError, TypeError) as exc:
            errors.append(_error(name, f"{exc} (type {declared[target].type})", "invalid_param"))
    for name, spec in declared.items():
        if name in values or name in seen:
            continue
        if spec.default is not msgspec.UNSET:
            try:
                values[name] = coerce(spec.type, spec.default)
            except (ValueError, TypeError) as exc:
                errors.append(_error(name, f"default: {exc} (type {spec.type})", "invalid_param"))
        elif require_all:
            errors.append(_error(name, "required: this parameter has no default", "missing_param"))
    if errors:
        raise InvalidPipelineParams(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors)
    return values


def to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as JSON-friendly builtins (dates and datetimes as ISO strings), e.g. for a run's record."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    return {name: plain(value) for name, value in values.items()}


def _error(name: str, message: str, code: str) -> dict[str, str]:
    return {"field": f"params.{name}", "message": message, "code": code}


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _integer(value: Any) -> int:
    number = _whole(value)
    if number not in INTEGER_RANGE:
        raise ValueError("expected an integer of 64 bits (-2^63 to 2^63-1)")
    return number


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected an integer, got {value!r}")


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer past 1.8e308 (JSON has no limit): it answered 500
            raise ValueError("expected a finite number") from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected true or false, got {value!r}")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date, got a datetime")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected an ISO date such as 2024-01-31, got {value!r}")


def _datetime(value: Any) -> dt.datetime:
    """A naive UTC datetime (dataset timestamps are naive UTC); an aware value is converted to UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected an ISO datetime such as 2024-01-31T08:00:00Z, got {value!r}") from None
    else:
        raise ValueError(f"expected an ISO datetime, got {type(value).__name__}")
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0 in UTC: it answered 500
            raise ValueError(f"expected a datetime in the years 1 to 9999 in UTC, got {value!r}") from None
    return parsed


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "integer": _integer,
    "float": _float,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}
