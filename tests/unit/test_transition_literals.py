"""The transition writer's array literals (workers/sql_literals.py) say what psycopg's list dumper said."""

from __future__ import annotations

import uuid

import pytest

from workers.sql_literals import Prepared as _Prepared
from workers.sql_literals import byteas as _byteas
from workers.sql_literals import ints as _ints
from workers.sql_literals import literal as _literal
from workers.sql_literals import quoted as _quoted
from workers.sql_literals import texts as _texts
from workers.sql_literals import uuids as _uuids


def test_text_elements_are_quoted_and_escaped_so_null_and_empty_stay_strings() -> None:
    assert _texts([None, "", "NULL", 'a"b\\c', "x,{y}"]) == '{NULL,"","NULL","a\\"b\\\\c","x,{y}"}'


def test_numbers_uuids_and_bytes_in_their_text_forms() -> None:
    run = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert _uuids([run, run]) == "{00000000000000000000000000000001,00000000000000000000000000000001}"
    assert _ints([1, None, -3]) == "{1,NULL,-3}"
    assert _byteas([b"hi", b""]) == '{"\\\\x6869","\\\\x"}'
    assert _texts([]) == _ints([]) == _uuids([]) == _byteas([]) == "{}"


def test_an_execute_quotes_every_value_as_one_sql_literal() -> None:
    # Given values that would end a literal, or escape its end where backslashes are escapes
    prepared = _Prepared("conveyor_test", "SELECT CAST(:a AS text), CAST(:b AS text), CAST(:a AS text)")
    # Then each is one literal, its quotes doubled and its backslashes as they are (standard_conforming_strings)
    assert prepared.prepare == "PREPARE conveyor_test AS SELECT CAST($1 AS text), CAST($2 AS text), CAST($1 AS text)"
    assert prepared.execute({"a": "x'); DROP TABLE runs; --", "b": "\\'"}) == (
        "EXECUTE conveyor_test('x''); DROP TABLE runs; --', '\\''')"
    )


def test_a_nul_is_refused_rather_than_cutting_the_query_short() -> None:
    with pytest.raises(ValueError, match="NUL"):
        _literal("a\x00b")
    # the texts of a batch never carry one: they are stored with U+FFFD in its place
    assert _literal(_texts(["a\x00b"])) == "'{\"a\ufffdb\"}'"


def test_a_batch_of_texts_escaped_at_once_says_what_each_escaped_alone_says() -> None:
    # the one-pass form (no NULL, ASCII, no NUL) must equal the element-wise one it stands for
    batches: list[list[str | None]] = [
        ["a", "b"],
        ['{"elapsed_ms": 1.5}', "x\\y", '"', "\\", ""],
        ["NULL", ",", "{}"],
        ["ünï", "a"],
        ["a\x00b", "c"],
        ["\udcff", "d"],
        [None, "a\\"],
        [None, None],
    ]
    for values in batches:
        one_by_one = "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"
        assert _texts(values) == one_by_one, values
