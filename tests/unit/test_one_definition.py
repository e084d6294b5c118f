"""Rules defined once: a copy elsewhere in the tree fails here (issue 15, "one definition per rule")."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODE = ("app", "workers", "scheduler")


def _sources(*folders: str, suffix: str = ".py") -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for folder in folders
        for path in sorted((ROOT / folder).rglob(f"*{suffix}"))
        if "node_modules" not in path.parts
    }


def test_the_data_file_is_named_only_in_app_paths() -> None:
    named = [p for p, text in _sources(*CODE).items() if re.search(r"[\"']data\.parquet[\"']", text)]
    assert named == ["app/paths.py"]


def test_one_clock() -> None:
    copies = [p for p, text in _sources(*CODE).items() if re.search(r"^def (_now|utcnow)\(", text, re.M)]
    assert copies == ["app/clock.py"]


def test_all_is_assigned_once_per_module() -> None:
    twice = [p for p, text in _sources(*CODE).items() if len(re.findall(r"^__all__ = ", text, re.M)) > 1]
    assert twice == []


def test_tests_share_helpers_through_support_modules_not_other_test_modules() -> None:
    imports = [
        f"{p}: {line}"
        for p, text in _sources("tests").items()
        for line in text.splitlines()
        if re.match(r"from tests\.[\w.]*\btest_\w+ import", line)
    ]
    assert imports == []
