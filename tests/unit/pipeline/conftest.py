"""Fixtures for the pipeline engine: tiny Parquet inputs, a one-thread DuckDB, and a runner that records the log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from app.ingest.config import DuckDBSettings
from app.pipeline import InputFile, PipelineResult, RunInfo, run_pipeline


def write_parquet(path: Path, query: str) -> Path:
    """A Parquet file with the rows of `query` (written by a throwaway connection)."""
    conn = duckdb.connect()
    try:
        conn.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)").fetchall()
    finally:
        conn.close()
    return path


def rows_of(path: str | Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


@pytest.fixture
def settings() -> DuckDBSettings:
    return DuckDBSettings(memory_limit="256MB", threads=1)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Input files: orders (10 rows, 3 customers, a null email, a duplicate order) and customers (3 rows)."""
    folder = tmp_path / "datasets"
    folder.mkdir()
    write_parquet(
        folder / "orders.parquet",
        """
        SELECT * REPLACE (CAST(amount AS DOUBLE) AS amount) FROM (VALUES
            (1, 1, DATE '2024-01-01', 10.0, 'ann@example.org', '5'),
            (2, 1, DATE '2024-01-02', 20.0, 'ann@example.org', '7'),
            (3, 2, DATE '2024-01-02', 5.5, NULL, '1'),
            (4, 2, DATE '2024-01-03', 7.5, 'bob@example.org', '2'),
            (5, 3, DATE '2024-01-03', 100.0, 'cy@example.org', '3'),
            (6, 3, DATE '2024-01-04', 1.0, 'cy@example.org', 'x'),
            (7, 1, DATE '2024-01-05', 30.0, 'ann@example.org', '4'),
            (8, 2, DATE '2024-01-05', 12.0, 'bob@example.org', '6'),
            (9, 3, DATE '2024-01-06', 2.0, 'cy@example.org', '8'),
            (9, 3, DATE '2024-01-06', 2.0, 'cy@example.org', '8')
        ) AS t(id, customer_id, day, amount, email, qty)
        """,
    )
    write_parquet(
        folder / "customers.parquet",
        "SELECT * FROM (VALUES (1, 'Ann', 'north'), (2, 'Bob', 'south'), (4, 'Dee', 'east'))"
        " AS t(customer_id, name, region)",
    )
    return folder


@pytest.fixture
def inputs(data_dir: Path) -> dict[str, InputFile]:
    return {
        "orders": InputFile(path=str(data_dir / "orders.parquet"), dataset_id="ds-orders", version=3),
        "customers": InputFile(path=str(data_dir / "customers.parquet"), dataset_id="ds-customers", version=1),
    }


class Runner:
    """Runs specs over the fixture inputs into tmp_path/out and keeps every log line."""

    def __init__(self, tmp_path: Path, inputs: dict[str, InputFile], settings: DuckDBSettings) -> None:
        self.out = tmp_path / "out"
        self.inputs = inputs
        self.settings = settings
        self.lines: list[tuple[str, str]] = []
        self.slept: list[float] = []

    def __call__(
        self,
        spec: dict[str, Any],
        *,
        params: dict[str, Any] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        run: RunInfo | None = None,
        inputs: dict[str, InputFile] | None = None,
        **kwargs: Any,
    ) -> PipelineResult:
        declared = spec.get("inputs", {})
        return run_pipeline(
            spec,
            inputs={name: self.inputs[name] for name in declared} if inputs is None else inputs,
            params=params or {},
            run=run or RunInfo(id="run-1", scheduled_for=dt.datetime(2024, 2, 1, 6, 0)),
            out_dir=self.out,
            duckdb_settings=self.settings,
            log=lambda message, level: self.lines.append((level, message)),
            should_stop=should_stop,
            sleep=self.slept.append,
            **kwargs,
        )

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self.lines]


@pytest.fixture
def run(tmp_path: Path, inputs: dict[str, InputFile], settings: DuckDBSettings) -> Runner:
    return Runner(tmp_path, inputs, settings)


ORDERS = {"orders": {"dataset": "orders"}}
BOTH = {"orders": {"dataset": "orders"}, "customers": {"dataset": "customers"}}
