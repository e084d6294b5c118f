"""The sandbox: a pipeline reads only its inputs and writes only its output. Each attack is refused with
`sandbox_violation`, as a step (the parser admits one query) and straight on the run's DuckDB connection (DuckDB's
own allowed paths, external access off and locked configuration refuse it)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from app.ingest.config import DuckDBSettings
from app.pipeline import InputFile, SandboxViolation, validate_spec
from app.pipeline.errors import sql_error_code
from app.pipeline.sandbox import QueryProblem, open_run_connection, query_parameters, view_query
from tests.unit.pipeline.conftest import ORDERS, Runner, write_parquet


@pytest.fixture
def other_dataset(tmp_path: Path) -> Path:
    """Another dataset's file (say, another namespace's), which the run was not given."""
    folder = tmp_path / "other-namespace"
    folder.mkdir()
    return write_parquet(folder / "data.parquet", "SELECT 'secret' AS s")


def attacks(tmp_path: Path, other: Path) -> dict[str, str]:
    return {
        "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
        "sniff_csv": "SELECT * FROM sniff_csv('/etc/passwd')",
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


#: Every attack of `attacks`, by name.
ATTACKS = [
    "read_csv",
    "sniff_csv",
    "read_parquet",
    "glob",
    "copy",
    "attach",
    "install",
    "load",
    "set",
    "set_paths",
    "pragma",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_step_cannot_leave_the_sandbox(run: Runner, tmp_path: Path, other_dataset: Path, attack: str) -> None:
    sql = attacks(tmp_path, other_dataset)[attack]
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": sql}], "output": {"dataset": "x"}})
    assert caught.value.code == "sandbox_violation"
    assert caught.value.status == 403
    assert caught.value.errors[0]["field"] == "steps[0].sql"
    assert os.listdir(tmp_path / "out") == []  # nothing written, not even a partial output


@pytest.mark.parametrize("attack", ATTACKS)
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
    # DuckDB's getenv exists only in its CLI (the Python build has none); the parser check refuses the name anyway.
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": "SELECT getenv('HOME') AS home"}]})
    assert caught.value.errors[0]["code"] == "sandbox_violation"
    assert "getenv" in caught.value.errors[0]["message"]


#: Queries that would show the server's paths or settings: the allow-list, the spill directory, the inputs' view
#: definitions (absolute file paths), attached databases, extension directories; or run SQL given as text.
LEAKS = {
    "settings": "SELECT name, value FROM duckdb_settings()",
    "settings_view": "FROM duckdb_settings",
    "qualified": "FROM system.main.duckdb_settings()",
    "quoted": "SELECT \"current_setting\"('allowed_paths') AS p",
    "current_setting": "SELECT current_setting('allowed_paths') AS p",
    "method_call": "SELECT 'temp_directory'.current_setting() AS p",
    "in_a_lambda": "SELECT list_transform(['allowed_paths'], x -> current_setting(x)) AS p",
    "in_a_subquery": "SELECT * FROM orders WHERE id IN (SELECT 1 FROM duckdb_databases())",
    "views": "SELECT sql FROM duckdb_views()",
    "extensions": "SELECT install_path FROM duckdb_extensions()",
    "temporary_files": "FROM duckdb_temporary_files()",
    "database_list": "FROM pragma_database_list",
    "information_schema": "SELECT view_definition FROM information_schema.views",
    "sqlite_master": "SELECT sql FROM sqlite_master",
    "pg_catalog": "FROM pg_catalog.pg_views",
    "pg_get_viewdef": "SELECT pg_get_viewdef(1) AS d",
    "glob": "FROM glob('/**/*.parquet')",
    "query": "FROM query('SELECT current_setting(''temp_directory'')')",
    "query_table": "FROM query_table('duckdb_settings')",
    # SQL serialized as a parse tree runs as text does: its names are not in the step's own tree.
    "serialized": "FROM json_execute_serialized_sql(json_serialize_sql('SELECT current_setting(''allowed_paths'')'))",
    "serialized_views": "FROM json_execute_serialized_sql(json_serialize_sql('SELECT sql FROM duckdb_views()'))",
}


@pytest.mark.parametrize("leak", list(LEAKS))
def test_a_step_cannot_see_the_servers_settings_or_paths(run: Runner, leak: str) -> None:
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": LEAKS[leak]}]})
    assert (caught.value.errors[0]["field"], caught.value.errors[0]["code"]) == ("steps[0].sql", "sandbox_violation")
    assert str(run.inputs["orders"].path) not in str(caught.value.errors)


@pytest.mark.parametrize("leak", ["settings", "current_setting", "information_schema", "query"])
def test_validation_reports_the_same_leaks_by_field(leak: str) -> None:
    spec = {"inputs": {"orders": {"dataset": "orders"}}, "steps": [{"type": "sql", "sql": LEAKS[leak]}]}
    report = validate_spec(spec, input_schemas={"orders": [("id", "BIGINT")]})
    assert not report.valid
    assert [(e.field, e.code) for e in report.errors] == [("steps[0].sql", "sandbox_violation")]


def test_ordinary_names_that_look_alike_are_still_allowed(run: Runner) -> None:
    sql = (
        "WITH settings AS (SELECT 1 AS query) "
        "SELECT o.id, s.query, 'duckdb_settings()' AS text, current_date IS NOT NULL AS today "
        "FROM orders AS o, settings AS s ORDER BY o.id LIMIT 1"
    )
    result = run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": sql}]})
    assert result.rows_out == 1


def test_a_filter_cannot_smuggle_a_second_statement(run: Runner, tmp_path: Path) -> None:
    where = f"true); COPY (SELECT 1) TO '{tmp_path / 'out' / 'x.csv'}'; SELECT (1"
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "filter", "where": where}]})
    assert caught.value.errors[0]["field"] == "steps[0].where"
    assert "found 3 statements" in caught.value.errors[0]["message"]


def test_a_step_names_its_inputs_and_reads_no_file_by_path_not_even_an_input(run: Runner) -> None:
    """DuckDB's allow-list would admit an input's file, but its path is the server's (a step cannot know it, and a
    validated draft has none): the one rule both apply is that a step opens no file."""
    path = run.inputs["orders"].path
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": f"SELECT count(*) AS n FROM read_parquet('{path}')"}]})
    assert caught.value.errors[0]["code"] == "sandbox_violation"
    assert run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": "SELECT count(*) AS n FROM orders"}]}).rows_out == 1


def test_views_read_parameters_from_variables_found_by_the_tokenizer() -> None:
    sql = "SELECT $day::date AS d, '$day' AS s, $$ $day $$ AS t, x>$N -- $day"
    assert view_query(sql) == (
        "SELECT getvariable('param:day')::date AS d, '$day' AS s, $$ $day $$ AS t, x>getvariable('param:n') -- $day"
    )


@pytest.mark.parametrize("column", ["金额", '"金额"', "montant_é", "é", '"a b"', '"it""s"'])
def test_placeholders_after_any_identifier_duckdb_accepts_are_bound(column: str) -> None:
    sql = f"SELECT * FROM t WHERE {column} >= $floor AND '€' <> $\"Tag\" -- $floor"
    assert view_query(sql) == (
        f"SELECT * FROM t WHERE {column} >= getvariable('param:floor') AND '€' <> getvariable('param:tag') -- $floor"
    )


@pytest.mark.parametrize("where", ["金额 >= $floor", '"金额" >= $floor', '"月 金额" >= $floor'])
def test_a_filter_on_a_non_ascii_column_validates_and_runs_alike(run: Runner, tmp_path: Path, where: str) -> None:
    """Validate and run bind a parameter by the same rule, whatever the column names around it."""
    column = where.split(" >=")[0].strip('"')
    path = write_parquet(tmp_path / "cn.parquet", f'SELECT * FROM (VALUES (1.0), (5.0), (9.0)) AS t("{column}")')
    spec = {
        "inputs": {"cn": {"dataset": "cn"}},
        "params": {"floor": {"type": "float", "default": 0}},
        "steps": [
            {"id": "big", "type": "filter", "where": where},
            {"type": "sql", "sql": f"SELECT *, $floor AS floor FROM big WHERE {where}"},
        ],
    }
    report = validate_spec(spec, input_schemas={"cn": [(column, "DOUBLE")]})
    assert (report.valid, report.errors) == (True, [])
    result = run(spec, params={"floor": 5}, inputs={"cn": InputFile(path=str(path), dataset_id="ds-cn", version=1)})
    assert result.rows_out == 2


@pytest.mark.parametrize("attack", ["read_csv", "sniff_csv", "read_parquet", "glob"])
def test_validation_refuses_a_file_read_with_the_code_a_run_fails_with(
    run: Runner, tmp_path: Path, other_dataset: Path, attack: str
) -> None:
    """`sniff_csv` binds without opening its file, so a draft validated over stand-in tables passed, and the user
    learnt only when the run failed with `sandbox_violation`."""
    sql = attacks(tmp_path, other_dataset)[attack]
    spec = {"inputs": {"orders": {"dataset": "orders"}}, "steps": [{"type": "sql", "sql": sql}]}
    report = validate_spec(spec, input_schemas={"orders": [("id", "BIGINT")]})
    with pytest.raises(SandboxViolation) as caught:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": sql}], "output": {"dataset": "x"}})
    assert [(e.field, e.code) for e in report.errors] == [("steps[0].sql", caught.value.errors[0]["code"])]
    assert caught.value.errors[0]["code"] == "sandbox_violation"


def test_every_table_function_duckdb_refuses_on_a_file_is_refused_by_the_step_check() -> None:
    """The step check names the file functions by prefix: one that a later DuckDB adds, and that its sandbox
    refuses, must be refused by the check too, or validation would pass what a run refuses."""
    conn = duckdb.connect(config={"enable_external_access": False, "autoload_known_extensions": False})
    refused = []
    try:
        names = conn.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'table' ORDER BY 1"
        ).fetchall()
        for (name,) in names:
            try:
                conn.execute(f"SELECT * FROM {name}('/etc/hostname') LIMIT 1").fetchall()
            except duckdb.PermissionException:
                refused.append(name)
            except duckdb.Error:
                pass  # other arguments, or no file at all
    finally:
        conn.close()
    assert {"read_csv", "sniff_csv", "read_text", "parquet_schema"} <= set(refused)
    for name in refused:
        with pytest.raises(QueryProblem) as caught:
            query_parameters(f"SELECT * FROM {name}('/etc/hostname')")
        assert (name, caught.value.code) == (name, "sandbox_violation")
