"""The sandbox: a pipeline reads only its inputs and writes only its output. Each attack is refused with
`sandbox_violation`, as a step (the parser admits one query) and straight on the run's DuckDB connection (DuckDB's
own allowed paths, external access off and locked configuration refuse it)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from tests.unit.pipeline.conftest import ORDERS, Runner, write_parquet
from workers.ingest.config import DuckDBSettings
from workers.pipeline import PipelineStepFailed, SandboxViolation
from workers.pipeline.errors import sql_error_code
from workers.pipeline.sandbox import open_run_connection, view_query


@pytest.fixture
def other_dataset(tmp_path: Path) -> Path:
    """Another dataset's file (say, another namespace's), which the run was not given."""
    folder = tmp_path / "other-namespace"
    folder.mkdir()
    return write_parquet(folder / "data.parquet", "SELECT 'secret' AS s")


def attacks(tmp_path: Path, other: Path) -> dict[str, str]:
    return {
        "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
        "read_parquet": f"SELECT * FROM read_parquet('{other}')",
        "glob": f"SELECT * FROM read_parquet('{other.parent}/*.parquet')",
        "copy": f"COPY (SELECT 1) TO '{tmp_path / 'out' / 'stolen.csv'}'",
        "attach": f"ATTACH '{tmp_path / 'x.duckdb'}' AS x",
        "install": "INSTALL httpfs",
        "load": "LOAD httpfs",
        "set": "SET enable_external_access = true",
        "set_paths": "SET allowed_directories = ['/']",
        "pragma": "PRAGMA threads=64",
    }


@pytest.mark.parametrize(
    "attack", ["read_csv", "read_parquet", "glob", "copy", "attach", "install", "load", "set", "set_paths", "pragma"]
)
def test_a_step_cannot_leave_the_sandbox(run: Runner, tmp_path: Path, other_dataset: Path, attack: str) -> None:
    sql = attacks(tmp_path, other_dataset)[attack]
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": sql}], "output": {"dataset": "x"}})
    assert caught.value.code == "sandbox_violation"
    assert caught.value.status == 403
    assert caught.value.errors[0]["field"] == "steps[0].sql"
    assert os.listdir(tmp_path / "out") == []  # nothing written, not even a partial output


@pytest.mark.parametrize(
    "attack", ["read_csv", "read_parquet", "glob", "copy", "attach", "install", "load", "set", "set_paths", "pragma"]
)
def test_duckdb_itself_refuses_it_on_the_run_connection(
    tmp_path: Path, other_dataset: Path, data_dir: Path, settings: DuckDBSettings, attack: str
) -> None:
    output = tmp_path / "out" / ".work" / "data.parquet"
    output.parent.mkdir(parents=True)
    conn = open_run_connection(
        settings,
        inputs=[str(data_dir / "orders.parquet")],
        output_file=str(output),
        spill_directory=str(tmp_path / "spill"),
    )
    try:
        with pytest.raises(duckdb.Error) as caught:
            conn.execute(attacks(tmp_path, other_dataset)[attack]).fetchall()
        assert sql_error_code(caught.value) == "sandbox_violation", caught.value
        assert conn.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    finally:
        conn.close()
    assert not (tmp_path / "out" / "stolen.csv").exists()


def test_the_run_connection_writes_only_the_output_file(
    tmp_path: Path, data_dir: Path, settings: DuckDBSettings
) -> None:
    work = tmp_path / "out" / ".work"
    work.mkdir(parents=True)
    output = work / "data.parquet"
    conn = open_run_connection(
        settings,
        inputs=[str(data_dir / "orders.parquet")],
        output_file=str(output),
        spill_directory=str(work / "spill"),
    )
    try:
        # DuckDB's allow-list does not tell reading from writing (an input file is reachable too), and DuckDB always
        # allows its own spill directory (inside the run's work directory, deleted after the run). Steps never get
        # to write either: a step is one query (see test_a_step_cannot_leave_the_sandbox[copy]).
        for target in (work / "other.parquet", tmp_path / "x.parquet", data_dir / "new.parquet"):
            with pytest.raises(duckdb.PermissionException):
                conn.execute(f"COPY (SELECT 1 AS a) TO '{target}' (FORMAT parquet)").fetchall()
        conn.execute(f"COPY (SELECT 1 AS a) TO '{output}' (FORMAT parquet, USE_TMP_FILE false)").fetchall()
    finally:
        conn.close()
    assert output.exists()
    assert "other.parquet" not in os.listdir(work)


def test_getenv_is_not_available(run: Runner) -> None:
    # DuckDB's getenv exists only in its CLI, and the Python build has none: the name does not even bind.
    with pytest.raises(PipelineStepFailed) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": "SELECT getenv('HOME') AS home"}]})
    assert caught.value.errors[0]["code"] == "sql_bind_error"
    assert "getenv" in caught.value.errors[0]["message"]


def test_a_filter_cannot_smuggle_a_second_statement(run: Runner, tmp_path: Path) -> None:
    where = f"true); COPY (SELECT 1) TO '{tmp_path / 'out' / 'x.csv'}'; SELECT (1"
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "filter", "where": where}]})
    assert caught.value.errors[0]["field"] == "steps[0].where"
    assert "found 3 statements" in caught.value.errors[0]["message"]


def test_reading_an_input_file_by_path_is_allowed(run: Runner) -> None:
    path = run.inputs["orders"].path
    result = run(
        {"inputs": ORDERS, "steps": [{"type": "sql", "sql": f"SELECT count(*) AS n FROM read_parquet('{path}')"}]}
    )
    assert result.rows_out == 1


def test_views_read_parameters_from_variables_found_by_the_tokenizer() -> None:
    sql = "SELECT $day::date AS d, '$day' AS s, $$ $day $$ AS t, x>$N -- $day"
    assert view_query(sql) == (
        "SELECT getvariable('param:day')::date AS d, '$day' AS s, $$ $day $$ AS t, x>getvariable('param:n') -- $day"
    )
