"""The client's and the CLI's pure helpers: upload chunking, batch keys, -p parsing, JSON Lines, SSE."""

from __future__ import annotations

import pytest

from app.client.sse import Event, SseDecoder
from app.client.uploads import chunks
from app.client_cli import UsageError
from app.client_cli.batch import chunk_keys, parse_lines
from app.client_cli.output import parse_params


def test_chunks_cover_only_the_missing_ranges() -> None:
    assert list(chunks([[0, 10], [25, 30]], 4)) == [(0, 4), (4, 8), (8, 10), (25, 29), (29, 30)]
    assert list(chunks([], 4)) == []


def test_batch_keys_depend_on_the_content_chunk_size_and_index_only() -> None:
    keys = chunk_keys(b'{"pipeline": "a"}\n' * 7, 3, 7)
    assert len(keys) == 3 == len(set(keys))
    assert keys == chunk_keys(b'{"pipeline": "a"}\n' * 7, 3, 7)
    assert keys[0] != chunk_keys(b'{"pipeline": "b"}\n' * 7, 3, 7)[0]
    assert keys[0] != chunk_keys(b'{"pipeline": "a"}\n' * 7, 2, 7)[0]


def test_parse_params_reads_json_values_and_keeps_other_text() -> None:
    assert parse_params(["n=3", "ok=true", "day=2026-11-22", "xs=[1,2]", "empty="]) == {
        "n": 3,
        "ok": True,
        "day": "2026-11-22",
        "xs": [1, 2],
        "empty": "",
    }
    with pytest.raises(ValueError, match="key=value"):
        parse_params(["novalue"])


def test_parse_lines_skips_blank_lines_and_names_a_bad_one() -> None:
    assert parse_lines(b'{"pipeline": "a"}\n\n{"pipeline": "b", "params": {"i": 1}}\n') == [
        {"pipeline": "a"},
        {"pipeline": "b", "params": {"i": 1}},
    ]
    with pytest.raises(UsageError, match="line 2"):
        parse_lines(b'{"pipeline": "a"}\n{"params": {}}\n')
    with pytest.raises(UsageError, match="line 1: not JSON"):
        parse_lines(b"nope\n")


def test_the_sse_decoder_joins_data_lines_and_skips_comments() -> None:
    decoder = SseDecoder()
    fed = [decoder.feed(line) for line in [": keepalive", "id: 7", "event: log", "data: a", "data: b", ""]]
    assert fed[:-1] == [None] * 5
    assert fed[-1] == Event(event="log", data="a\nb", id="7")
    assert decoder.feed("") is None
