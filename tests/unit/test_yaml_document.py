"""A YAML body is built from the events its check reads (app/api/yaml_document.py): the same document, and the
same error for a bad one, as the check's pass followed by yaml.load; and yaml.load is not run a second time over
a plain spec (it was 1.3 of the 1.7 CPU-s a 1 MB spec of short values cost)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import yaml

from app.api import yaml_body, yaml_document
from app.api.yaml_body import MAX_YAML_DEPTH, yaml_as_json
from app.core.errors import InvalidInput

LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DOCUMENTS = [
    b"",
    b"---\n...\n",
    b"name: x\nspec:\n  steps: []\n",
    b"a: [0, 7, 007, 0o17, 0x1F, 0b101, 1_000, +5, -3, 190:20:30, 12e3, 1.5, -.5, .inf, -.Inf, .NaN, 1.2e+3]\n",
    b"b: [yes, No, on, OFF, true, False, y, n, ~, null, Null, '', \"\", 1.0.0, 0.1.2]\n",
    b"c: [2026-12-05, 2026-12-05T10:00:00Z, 2026-12-05 10:00:00.5 +08:00, 2026-1-5]\n",
    b"d: ['123', \"yes\", ! 12, ! yes, !!str 12, !!int '12', !!float 1, !!bool 'yes', !!null '']\n",
    b"e: !!binary aGVsbG8=\n",
    b"e: !!binary '@@'\n",
    b"f: {<<: {a: 1, b: 2}, b: 3}\n",
    b"g: {=: 1}\n",
    b"h: !!set {a, b}\n",
    b"i: !!omap [a: 1, b: 2]\n",
    b"j: {1: one, 2.5: two, true: three, null: four, 2026-12-05: five}\n",
    b"k: {a: 1, a: 2}\n",
    b"l: |\n  folded\n  text\nm: >\n  more\n  text\nn: 'it''s'\n",
    "o: 名字 金额\np: \uff0412\nq: [-, +, ., '<', '<<']\n".encode(),
    b"r: - x\n" * 0 + b"- [a, [b, [c, {d: [e]}]]]\n- {x: {y: {z: []}}}\n",
    b"s: !!seq [1, 2]\nt: !!map {a: 1}\n",
    b"%YAML 1.1\n---\nu: 1\n",
    b"? a\n: 1\n? [b]\n: 2\n",
    b"v: 0x\nw: 0b\nx: 1__0\ny: _1\nz: +.inf\n",
]

BAD = [
    b"name: [",
    b"a: 1\n---\nb: 2\n",
    b"a: !custom x\n",
    b"a: !!int abc\n",
    b"a: &x 1\nb: *x\n",
    b"a: [1, *x]\n",
    b"a: 1\n  b: 2\n",
    b"a: 'unterminated\n",
    b"a: {b: [c}\n",
    b"name: x\nspec: " + b"[" * 5000,
    b"spec: " + b"[" * (MAX_YAML_DEPTH + 1) + b"]" * (MAX_YAML_DEPTH + 1),
    b"\t- x\n",
    b"a: b: c\n",
    b"a: {[1]: 2}\n",
    b"a: !!float x\n",
]


def loaded_as_before(body: bytes) -> bytes | tuple[str, str]:
    """What the body gave before: its events checked, then yaml.load, then JSON; or the error's code and message."""
    try:
        return msgspec.json.encode(yaml_document.checked_load(body, LOADER, MAX_YAML_DEPTH))
    except yaml_document.Refused as refused:
        return "invalid_yaml", refused.message
    except yaml.YAMLError as exc:
        return "invalid_yaml", str(exc)
    except (TypeError, ValueError) as exc:
        return "invalid_yaml", f"the document cannot be read as JSON: {exc}"


def loaded_now(body: bytes) -> bytes | tuple[str, str]:
    try:
        return yaml_as_json(body)
    except InvalidInput as refused:
        return refused.code, refused.errors[0]["message"]


@pytest.mark.parametrize("body", DOCUMENTS + BAD)
def test_a_body_reads_as_it_did(body: bytes) -> None:
    assert loaded_now(body) == loaded_as_before(body)


@pytest.mark.parametrize("body", BAD)
def test_a_bad_body_is_still_refused(body: bytes) -> None:
    assert isinstance(loaded_now(body), tuple)


@pytest.mark.parametrize("body", [b"a: !!timestamp nope\n", b"a: !!bool maybe\n", b"a: !!int\n", b"a: [!!float ]\n"])
def test_a_value_its_tag_does_not_fit_is_invalid_yaml_not_a_crash(body: bytes) -> None:
    """PyYAML's constructors raised AttributeError, KeyError or IndexError on these: a 500, not a 422."""
    with pytest.raises(InvalidInput) as refused:
        yaml_as_json(body)
    assert refused.value.code == "invalid_yaml"
    assert "does not read as its tag" in refused.value.errors[0]["message"]


def test_every_scalar_form_of_the_resolver_reads_the_same() -> None:
    """Each plain scalar whose first character an implicit type may start with, alone and in a list."""
    texts = [
        "0",
        "00",
        "09",
        "1e3",
        "1.",
        ".5",
        "-",
        "+1",
        "-0",
        "0.0",
        "12:30",
        "1:60",
        "2026-12-05x",
        "~x",
        "Y",
        "n0",
    ]
    texts += [f"{c}{rest}" for c in "0123456789+-.~ynotfYNOTF<=" for rest in ("", "1", "_", ".1", "e5", "x", ":1")]
    for text in texts:
        body = f"v: {text}\nw: [{text}]\n".encode()
        assert loaded_now(body) == loaded_as_before(body), text


def test_a_plain_spec_is_read_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a spec of plain mappings, lists and scalars, when it is read, then YAML is parsed once, not loaded again
    after the check (a 1 MB spec of 230,000 short values spent 1.3 CPU-s in that second pass)."""
    parses = 0
    real_parse = yaml.parse

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal parses
        parses += 1
        return real_parse(*args, **kwargs)

    def loaded(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was loaded again")

    monkeypatch.setattr(yaml, "parse", counting)
    monkeypatch.setattr(yaml, "load", loaded)
    body = (
        b"name: x\nspec:\n  steps:\n    - {type: validate, rules: [{rule: in_set, column: c, values: [1, a, 'b']}]}\n"
    )
    assert msgspec.json.decode(yaml_body.yaml_as_json(body)) == {
        "name": "x",
        "spec": {
            "steps": [{"type": "validate", "rules": [{"rule": "in_set", "column": "c", "values": [1, "a", "b"]}]}]
        },
    }
    assert parses == 1
