"""NaN / Infinity rewritten to null in the bytes ijson reads, and the byte scan that says when to look closer."""

from __future__ import annotations

import io
import json
import math
import random
from pathlib import Path
from typing import Any

from app.ingest.json_numbers import NonFiniteAsNull, scan, write_non_finite_as_null

#: Pieces of string keys and values: the tokens themselves, quotes, escapes, line breaks.
PIECES = ["NaN", "Infinity", "-Infinity", '"', "\\", "\\\\", '\\"', "x", "In", "Na", "é", "\n", ":", ","]


class Trickle:
    """A file that gives 1 to 12 bytes per read, so tokens, strings and escapes are cut everywhere."""

    def __init__(self, data: bytes, rng: random.Random) -> None:
        self._data, self._rng = io.BytesIO(data), rng

    def read(self, size: int = -1) -> bytes:
        return self._data.read(self._rng.randint(1, 12))

    def tell(self) -> int:
        return self._data.tell()

    def close(self) -> None:
        self._data.close()


def _document(rng: random.Random, depth: int = 0) -> Any:
    draw = rng.random()
    if draw < 0.2:
        return rng.choice([math.nan, math.inf, -math.inf])
    if draw < 0.4:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
    if draw < 0.5 or depth == 3:
        return rng.random()
    if draw < 0.75:
        return {"".join(rng.choice(PIECES) for _ in range(2)) + str(i): _document(rng, depth + 1) for i in range(3)}
    return [_document(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _nulled(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulled(item) for item in value]
    return value


def _non_finite(value: Any) -> int:
    if isinstance(value, dict | list):
        return sum(_non_finite(item) for item in (value.values() if isinstance(value, dict) else value))
    return int(isinstance(value, float) and not math.isfinite(value))


def _read_all(reader: NonFiniteAsNull) -> bytes:
    chunks = []
    while chunk := reader.read(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_every_non_finite_number_and_nothing_in_a_string_becomes_null_however_the_reads_fall():
    rng = random.Random(7)
    for _ in range(500):
        document = _document(rng)
        source = json.dumps(document, indent=rng.choice([None, 1])).encode()
        rewritten = NonFiniteAsNull(Trickle(source, rng))
        out = _read_all(rewritten)
        assert json.loads(out) == _nulled(document), source
        assert rewritten.count == _non_finite(document)


def test_the_line_of_the_first_rewritten_token_is_kept():
    rewritten = NonFiniteAsNull(io.BytesIO(b'[{"s": "NaN"},\n{"v": 1},\n{"v": NaN}, {"v": Infinity}]'))
    assert _read_all(rewritten) == b'[{"s": "NaN"},\n{"v": 1},\n{"v": null}, {"v": null}]'
    assert (rewritten.count, rewritten.first_line) == (2, 3)


def test_the_scan_finds_wide_integers_and_non_finite_tokens_across_its_reads(tmp_path: Path):
    def scanned(text: str) -> tuple[bool, bool]:
        path = tmp_path / "a.json"
        path.write_text(text)
        found = scan(str(path))
        return found.non_finite, found.long_numbers

    pad = " " * (1024 * 1024 - 10)  # the token or the digits straddle the first read's end
    # 17 significant digits at most: what a program writes for a double
    assert scanned('[{"v": 0.0047985587766403714, "w": 1.2345678901234567e5, "s": "Infinit"}]') == (False, False)
    assert scanned('[{"w": 1.2345678901234567890e5}]') == (False, True)  # 19: a double rounds it
    assert scanned(f'[{pad}{{"v": 12345678901234567890}}]') == (False, True)
    assert scanned(f'[{pad}{{"v": -Infinity}}]') == (True, False)
    assert scanned(f'[{pad[:-20]}{{"v": 0.000000000000000000000000001234567890123456789}}]') == (False, True)


def test_the_copy_duckdb_reads_differs_only_where_a_non_finite_number_was(tmp_path: Path):
    source, target = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    source.write_bytes(b'{"v": NaN, "s": "NaN \\" Infinity"}\n' * 100_000 + b'{"v": -Infinity}\n')
    rewritten = write_non_finite_as_null(str(source), str(target))
    assert target.read_bytes() == b'{"v": null, "s": "NaN \\" Infinity"}\n' * 100_000 + b'{"v": null}\n'
    assert (rewritten.count, rewritten.first_line) == (100_001, 1)


def test_the_text_copy_quotes_long_decimals_only_outside_strings(tmp_path: Path):
    source, target = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    line = b'{"a": 0.1234567890123456789012, "s": "0.1234567890123456789012 \\" 1.00000000000000000001", "b": 0.5}\n'
    source.write_bytes(line * 50_000 + b'{"a": -12345678901234567890.5, "n": NaN, "i": 123456789012345678901}\n')
    rewritten = write_non_finite_as_null(str(source), str(target), quote_long=True)
    quoted = line.replace(b": 0.1234567890123456789012,", b': "0.1234567890123456789012",')
    assert (
        target.read_bytes()
        == quoted * 50_000 + b'{"a": "-12345678901234567890.5", "n": null, "i": 123456789012345678901}\n'
    )
    assert rewritten.count == 1
