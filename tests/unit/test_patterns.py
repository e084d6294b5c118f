"""Every `pattern` a client reads must match the whole text in the API's decoder too, trailing newline included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api.app import create_app
from app.api.openapi import openapi_document
from app.core.patterns import whole
from app.pipeline.spec import pipeline_json_schema
from app.settings import Settings


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for child in node.values():
            yield from patterns(child)
    elif isinstance(node, list):
        for child in node:
            yield from patterns(child)


def documented_patterns() -> list[str]:
    settings_ = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1/0")
    found = set(patterns(openapi_document(create_app(settings_)).to_schema()))
    return sorted(found | set(patterns(pipeline_json_schema())))


def accepts(pattern: str, text: str) -> bool:
    try:
        msgspec.convert(text, Annotated[str, msgspec.Meta(pattern=pattern)])
    except msgspec.ValidationError:
        return False
    return True


def test_whole_refuses_a_trailing_newline_that_dollar_lets_through() -> None:
    assert accepts("^[a-z]+$", "ns\n")  # Python's `$`: the bug this rule is for
    assert accepts(whole("[a-z]+"), "ns")
    assert not accepts(whole("[a-z]+"), "ns\n")
    assert not accepts(whole("viewer|admin"), "viewer\n")
    assert not accepts(whole("viewer|admin"), "xadmin")  # the alternation is grouped, not `^viewer|admin$`


def test_the_document_has_patterns_to_check() -> None:
    found = documented_patterns()
    assert len(found) >= 10
    assert whole(r"[a-z0-9][a-z0-9\-]{0,62}") in found  # a namespace's name


@pytest.mark.parametrize("pattern", documented_patterns())
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_documented_pattern_accepts_a_trailing_newline(pattern: str, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(re.compile(pattern), fullmatch=True))
    assert accepts(pattern, text)
    # Accepted only if the newline is part of what the pattern allows (a column name may hold one).
    assert accepts(pattern, text + "\n") == bool(re.fullmatch(pattern, text + "\n"))
