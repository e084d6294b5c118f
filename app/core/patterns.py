"""Regular expressions for schema `pattern`s: the whole text must match, in Python as in the OpenAPI document.

msgspec checks a `pattern` with Python's `re.search`, where `$` also matches just before a final newline, while
the document's readers (JSON Schema, ECMA-262) read `$` as the end of the text. So `^[a-z0-9]+$` let "ns\\n"
through: namespaces, pipelines, deployments and users were stored with a trailing newline, and a role
"viewer\\n" passed its pattern and answered 500 where it was parsed. `(?!\\n)` after `$` refuses that newline in
Python and changes nothing in ECMA-262, where `$` is already the end.
"""

from __future__ import annotations


def whole(body: str) -> str:
    """The pattern that matches a text only when `body` matches all of it (no trailing newline either)."""
    return f"^(?:{body})$(?!\\n)"
