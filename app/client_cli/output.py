"""Output for people (rich tables, progress bars on a terminal) or for programs (`--json`, or when piped)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: update(completed, total, description)
Update = Callable[[int, int | None, str], None]


class Output:
    def __init__(self, *, as_json: bool) -> None:
        self.json = as_json or not sys.stdout.isatty()
        self.fancy = not self.json

    def doc(self, value: Any, fields: Sequence[str] | None = None) -> None:
        """One document: JSON, or a two-column table of `fields` (all when None)."""
        if self.json:
            print(json.dumps(value, ensure_ascii=False, default=str), flush=True)
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(show_header=False, box=None)
        for key in fields or list(value):
            if key in value:
                table.add_row(f"[bold]{key}[/]", _cell(value[key]))
        Console().print(table)

    def table(self, items: list[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
        """A list: one JSON array, or a table of `columns`."""
        if self.json:
            print(json.dumps(items, ensure_ascii=False, default=str), flush=True)
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, title=title)
        for item in items:
            table.add_row(*(_cell(item.get(c)) for c in columns))
        Console().print(table)

    def line(self, text: str) -> None:
        """A message for people (stderr, so it never mixes with parseable output)."""
        if self.fancy:
            from rich.console import Console

            Console(stderr=True).print(text)

    def record(self, value: Any) -> None:
        """One line of a stream (a log line): JSON Lines when parseable, else the text."""
        if self.json:
            print(json.dumps(value, ensure_ascii=False, default=str), flush=True)
        else:
            print(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), flush=True)

    @contextmanager
    def progress(self, description: str, total: int | None, *, bytes_: bool = False) -> Iterator[Update]:
        """A progress bar on a terminal's stderr; a no-op otherwise."""
        if not (self.fancy and sys.stderr.isatty()):
            yield lambda completed, total, text: None
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        counts = (DownloadColumn(), TransferSpeedColumn()) if bytes_ else (MofNCompleteColumn(),)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), *counts, TimeRemainingColumn(), transient=False
        ) as bar:
            task = bar.add_task(description, total=total)

            def update(completed: int, total: int | None, text: str) -> None:
                bar.update(task, completed=completed, total=total, description=text or description)

            yield update


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_params(pairs: Sequence[str] | None) -> dict[str, Any]:
    """`-p key=value` pairs: a value that reads as JSON (42, true, [1,2]) is that, else the text itself."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params
