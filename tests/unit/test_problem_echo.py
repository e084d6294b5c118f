"""A problem document names the bad input without returning it: values and lists are cut, and counted."""

from __future__ import annotations

from app.api.errors import MAX_ECHO_CHARS, MAX_FIELD_ERRORS, bounded, bounded_errors


def test_a_long_value_is_cut_with_an_ellipsis_and_a_count() -> None:
    text = "x" * (MAX_ECHO_CHARS + 250)
    assert bounded(text) == "x" * MAX_ECHO_CHARS + "… (250 more characters)"
    assert bounded("short") == "short"


def test_a_long_list_of_field_errors_is_cut_and_counted() -> None:
    errors = [{"field": f"f{i}", "message": "bad"} for i in range(MAX_FIELD_ERRORS + 7)]
    kept = bounded_errors(errors)
    assert [e.field for e in kept[:2]] == ["f0", "f1"]
    assert len(kept) == MAX_FIELD_ERRORS + 1
    assert kept[-1].message == "… and 7 more errors"


def test_each_field_and_message_is_bounded() -> None:
    (error,) = bounded_errors([{"field": "k" * 5000, "message": "m" * 5000}])
    assert len(error.field) < MAX_ECHO_CHARS + 40
    assert error.message.endswith("(4000 more characters)")
