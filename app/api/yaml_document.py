"""A YAML body's document built straight from the parser's events, in the pass that checks them.

yaml.load (CSafeLoader) parses the text again after the check's pass and composes a node per value (with its
marks) before constructing anything: for a 1 MB spec of 230,000 short values (a validate step's `in_set`
lists) that was 1.3 of the 1.7 CPU-s the body cost, the parse of the events 0.2. Here every value is made as its
event arrives, resolved and constructed as SafeLoader does (its resolver, its constructors for scalar tags); what
this does not build itself (an explicit tag on a mapping or list, a merge key `<<`, a mapping or list as a key,
a second document, a value a constructor refuses) makes it give up (NeedsPyYaml), and the caller reads the body
as before, so such a document gives the same value or the same error as ever.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()
#: First characters of a plain scalar that may resolve to another type than text (`1`, `true`, `~`, `2026-…`).
_TYPED_FIRST = frozenset(Resolver.yaml_implicit_resolvers)
_STR = "tag:yaml.org,2002:str"
#: Scalar tags built here, by SafeConstructor's own constructor of each (a merge or `=` key gives up).
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp")
)
#: A plain scalar's non-specific tag (`! 2`) resolves as if it had none.
_UNTAGGED = (None, "!")


class NeedsPyYaml(Exception):
    """The document holds something only PyYAML's composer builds (or refuses) as it should."""


class Refused(Exception):
    """An event the caller refuses (an alias, nesting too deep): `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def build(body: bytes, loader: Any, max_depth: int) -> Any:
    """The document in `body`, as yaml.load with `loader` builds it; Refused for an alias or nesting deeper than
    `max_depth` (where the check's pass said so), yaml.YAMLError for bad YAML, NeedsPyYaml (see the module)."""
    containers: list[Any] = []  # open mappings and lists, innermost last
    keys: list[Any] = []  # each open mapping's key waiting for its value (_NO_KEY: none)
    document: Any = None
    documents = 0
    for event in yaml.parse(body, Loader=loader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            value = _scalar(event)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if len(containers) >= max_depth:
                raise _too_deep(max_depth)
            if event.tag not in _UNTAGGED or (containers and keys[-1] is _AWAITED):
                raise NeedsPyYaml  # a tagged collection, or one as a mapping's key
            containers.append({} if kind is yaml.MappingStartEvent else [])
            keys.append(_AWAITED if kind is yaml.MappingStartEvent else _NO_KEY)
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            keys.pop()
            value = containers.pop()
        elif kind is yaml.AliasEvent:
            raise _alias(event)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise NeedsPyYaml  # the composer's "expected a single document"
            continue
        else:
            continue
        if not containers:
            document = value
        elif keys[-1] is _NO_KEY:
            containers[-1].append(value)
        elif keys[-1] is _AWAITED:
            keys[-1] = value
        else:
            containers[-1][keys[-1]] = value
            keys[-1] = _AWAITED
    return document


def checked_load(body: bytes, loader: Any, max_depth: int) -> Any:
    """The document yaml.load with `loader` builds from `body`, once every event is checked (Refused: nothing is
    built from a refused document)."""
    depth = 0
    for event in yaml.parse(body, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            raise _alias(event)
        if isinstance(event, _OPEN):
            depth += 1
            if depth > max_depth:
                raise _too_deep(max_depth)
        elif isinstance(event, _CLOSE):
            depth -= 1
    try:
        return yaml.load(body, Loader=loader)  # noqa: S506 (a safe loader, the caller's)
    except (
        AttributeError,
        KeyError,
        IndexError,
    ) as exc:  # SafeConstructor on `!!timestamp nope`, `!!bool maybe`, `!!int`
        raise Refused(f"a value does not read as its tag (!!bool, !!int, !!timestamp, …) says: {exc!r}") from None


def _alias(event: yaml.AliasEvent) -> Refused:
    return Refused(f"aliases (*{event.anchor}) are not accepted; write the value out")


def _too_deep(max_depth: int) -> Refused:
    return Refused(f"the document nests deeper than {max_depth} levels")


_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
#: Markers of `build`'s key stack: a list (no key), a mapping waiting for its next key.
_NO_KEY, _AWAITED = object(), object()


def _scalar(event: yaml.ScalarEvent) -> Any:
    """A scalar as SafeLoader makes it: its tag resolved from its text where it has none, then constructed."""
    value, tag = event.value, event.tag
    if tag in _UNTAGGED:
        plain = event.implicit[0]
        if plain and value and value[0] not in _TYPED_FIRST:
            return value  # no implicit type starts so: text
        if plain and value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
            return int(value)  # what the int resolver and construct_yaml_int make of decimal digits
        tag = _RESOLVER.resolve(ScalarNode, value, event.implicit)
    if tag == _STR:
        return value
    if tag not in _SCALAR_TAGS:
        raise NeedsPyYaml
    try:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, value, style=event.style))
    except Exception as exc:  # PyYAML's own read says what it is, and where
        raise NeedsPyYaml from exc


__all__ = ["NeedsPyYaml", "Refused", "build", "checked_load"]
