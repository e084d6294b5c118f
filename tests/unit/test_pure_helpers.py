"""Cursors, UUIDv7, paths, named-query parsing and the pipeline spec: pure code, no I/O."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.core.errors import InvalidInput, InvalidParameter
from app.core.ids import uuid7
from app.db.queries import parse
from app.domain.audit import REDACTED, redact
from app.domain.pagination import decode_cursor, decode_number_cursor, encode_cursor, encode_number_cursor
from app.paths import UnsafePath, run_log_path, under_root
from app.pipeline.spec import FailStep, LogStep, SleepStep, parse_spec


def test_a_cursor_round_trips() -> None:
    at, row_id = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), uuid.uuid4()
    position = decode_cursor(encode_cursor(at, row_id))
    assert (position.at, position.id) == (at, row_id)


#: A time in year 10000 once in UTC: GET /deployments?cursor= answered 500 (the driver refused it).
PAST_YEAR_9999 = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",
        encode_cursor(datetime(2026, 1, 2, tzinfo=UTC), uuid.UUID(int=7))[:-3],
        encode_cursor(PAST_YEAR_9999, uuid.UUID(int=7)),
    ],
)
def test_a_bad_cursor_is_a_clear_error(cursor: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        decode_cursor(cursor)
    assert caught.value.code == "invalid_cursor"


def test_a_number_cursor_round_trips_and_stays_within_a_postgres_integer() -> None:
    assert decode_number_cursor(encode_number_cursor(41)) == 41
    for bad in (encode_cursor(datetime(2026, 1, 2, tzinfo=UTC), uuid.UUID(int=7)), "WzIxNDc0ODM2NDhd", "Wy0xXQ"):
        with pytest.raises(InvalidParameter) as caught:  # a time cursor, [2147483648], [-1]
            decode_number_cursor(bad)
        assert caught.value.code == "invalid_cursor"


def test_uuid7_is_version_7_and_ordered_by_time() -> None:
    first, second = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert first < second
    assert int.from_bytes(first.bytes[:6], "big") == 1_700_000_000_000


def test_paths_stay_under_the_root(tmp_path: Path) -> None:
    run_id = uuid.uuid4()
    assert tmp_path.resolve() in run_log_path(tmp_path, run_id).parents
    with pytest.raises(UnsafePath):
        under_root(tmp_path, "..", "etc", "passwd")
    with pytest.raises(UnsafePath):
        under_root(tmp_path, "/etc/passwd")


def test_named_queries_are_split_by_name() -> None:
    parsed = parse("-- a comment\n-- name: one\nSELECT 1;\n\n-- name: two_b\nSELECT 2\n")
    assert parsed == {"one": "SELECT 1", "two_b": "SELECT 2"}
    with pytest.raises(ValueError, match="twice"):
        parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")


def test_the_spec_accepts_the_built_in_steps() -> None:
    spec = parse_spec(
        {
            "steps": [
                {"type": "log", "message": "hi"},
                {"type": "sleep", "seconds": 0.5},
                {"type": "fail", "message": "boom"},
            ]
        }
    )
    assert [type(s) for s in spec.steps] == [LogStep, SleepStep, FailStep]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"steps": [{"type": "teleport"}]}, "spec.steps[0]"),
        ({"steps": [{"type": "sleep", "seconds": -1}]}, "spec.steps[0].seconds"),
        ({"steps": [{"type": "log"}]}, "spec.steps[0]"),
        ({"steps": "nope"}, "spec.steps"),
        ({"stepz": []}, "spec"),
    ],
)
def test_a_bad_spec_names_the_field(document: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_spec(document)
    assert caught.value.code == "invalid_pipeline_spec"
    assert caught.value.errors[0]["field"].startswith(field)


def test_redact_replaces_secrets_at_any_depth_and_keeps_the_rest() -> None:
    details = {"a": [1, {"password": "x", "b": None, "Token": {"y": 1}}, [2, 3]], "secret": 1, "c": {"d": "e"}}
    assert redact(details) == {
        "a": [1, {"password": REDACTED, "b": None, "Token": REDACTED}, [2, 3]],
        "secret": REDACTED,
        "c": {"d": "e"},
    }
    assert list(redact({"z": 1, "a": 2, "m": 3})) == ["z", "a", "m"]


def test_redact_takes_params_nested_deeper_than_the_recursion_limit() -> None:
    """POST /deployments with params 500 deep answered 500 (RecursionError in the audit entry's redaction)."""
    deep: dict = {}
    inner = deep
    for _ in range(5000):
        inner["a"] = {}
        inner = inner["a"]
    inner["password"] = "x"
    found = redact(deep)
    for _ in range(5000):
        found = found["a"]
    assert found == {"password": REDACTED}
