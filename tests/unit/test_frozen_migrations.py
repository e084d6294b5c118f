"""A migration runs the SQL it was written with: a later edit of a file under sql/ does not change what it does."""

from __future__ import annotations

import pathlib
import runpy
from typing import Any
from unittest import mock

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "sql" / "migrations" / "versions"
#: The folders whose files today's code applies (`CREATE OR REPLACE`): what a later revision may change.
LIVE = (ROOT / "sql" / "functions", ROOT / "sql" / "views", ROOT / "sql" / "queries")


def _executed(revision: str, step: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL a revision's upgrade or downgrade executes, refusing to read any file of today's sql/."""
    read_text = pathlib.Path.read_text

    def guarded(path: pathlib.Path, *args: Any, **kwargs: Any) -> str:
        if any(path.resolve().is_relative_to(folder) for folder in LIVE):
            raise AssertionError(f"{revision} {step} read the live file {path.relative_to(ROOT)}")
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", guarded)
    function = runpy.run_path(str(VERSIONS / f"{revision}.py"))[step]
    op = mock.MagicMock()
    monkeypatch.setitem(function.__globals__, "op", op)
    function()
    return [str(c.args[0]) for c in op.execute.call_args_list]


@pytest.mark.parametrize("revision", ["0017_batch_captures", "0019_occurrence_ranges"])
@pytest.mark.parametrize("step", ["upgrade", "downgrade"])
def test_the_revision_applies_its_own_copy_of_the_functions_and_views(
    revision: str, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = _executed(revision, step, monkeypatch)
    assert statements
    assert not any("{{" in s for s in statements)  # tokens rendered


def test_the_frozen_copies_are_what_the_revisions_applied() -> None:
    """Each copy was taken from the file as the revision left it (no revision since has changed them)."""
    frozen = runpy.run_path(str(VERSIONS / "0017_batch_captures.py"))
    assert "capture_run_rollup(p_run_ids uuid[]" in frozen["ROLLUP_CAPTURE"]
    assert "CREATE OR REPLACE FUNCTION finish_runs" in frozen["TRANSITIONS"]
    ranges = runpy.run_path(str(VERSIONS / "0019_occurrence_ranges.py"))
    assert "fire_times" in ranges["OCCURRENCE_FACTS"]
    assert "fire_times" in ranges["FIRE_TIMES"]
    assert "'fire_times', NEW.fire_times" in ranges["WEBHOOK_CAPTURE"]
