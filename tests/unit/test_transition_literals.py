"""The transition writer's array literals (workers/transitions.py) say what psycopg's list dumper said."""

from __future__ import annotations

import uuid

from workers.transitions import _byteas, _ints, _texts, _uuids


def test_text_elements_are_quoted_and_escaped_so_null_and_empty_stay_strings() -> None:
    assert _texts([None, "", "NULL", 'a"b\\c', "x,{y}"]) == '{NULL,"","NULL","a\\"b\\\\c","x,{y}"}'


def test_numbers_uuids_and_bytes_in_their_text_forms() -> None:
    run = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert _uuids([run, run]) == "{00000000-0000-0000-0000-000000000001,00000000-0000-0000-0000-000000000001}"
    assert _ints([1, None, -3]) == "{1,NULL,-3}"
    assert _byteas([b"hi", b""]) == '{"\\\\x6869","\\\\x"}'
    assert _texts([]) == _ints([]) == _uuids([]) == _byteas([]) == "{}"
