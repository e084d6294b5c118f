"""`conveyor up`'s ready line names the console's URL first, or says how to get the console when it is not built."""

from __future__ import annotations

from pathlib import Path

from app.cli.processes import ready_line


def test_the_ready_line_gives_the_console_url_when_it_is_built(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    line = ready_line("http://127.0.0.1:8000", tmp_path)
    assert "Conveyor is ready" in line
    assert "Console: http://127.0.0.1:8000/  (sign in as admin)" in line
    assert line.index("Console:") < line.index("API:")
    assert "http://127.0.0.1:8000/api/v1" in line


def test_without_a_build_it_says_how_to_get_one(tmp_path: Path) -> None:
    line = ready_line("http://127.0.0.1:8000", tmp_path)
    assert "Console: not built: install Node.js 20+" in line
