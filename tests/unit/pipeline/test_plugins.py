"""Third-party step types through the `conveyor.steps` entry point group, proved with the example plugin."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import msgspec
import pytest

from app.pipeline import validate_spec
from app.pipeline.plugins import ENTRY_POINT_GROUP, PluginError, StepPlugin, load_step_plugins
from app.pipeline.spec import (
    CATALOG,
    InvalidPipelineSpec,
    PipelineSpec,
    RelationalStep,
    build_catalog,
    parse_spec,
    pipeline_json_schema,
)
from tests.unit.pipeline.conftest import ORDERS, Runner, rows_of
from tests.unit.pipeline.example_plugin import ShoutStep, UppercaseStep

MODULE = "tests.unit.pipeline.example_plugin"


def entry_point(name: str, target: str) -> EntryPoint:
    """What `importlib.metadata.entry_points(group="conveyor.steps")` yields for an installed package."""
    return EntryPoint(name=name, value=f"{MODULE}:{target}", group=ENTRY_POINT_GROUP)


@pytest.fixture
def catalog():
    return build_catalog(load_step_plugins([entry_point("uppercase", "UPPERCASE"), entry_point("shout", "Shout")]))


SPEC = {
    "inputs": ORDERS,
    "steps": [
        {"type": "filter", "where": "id = 1"},
        {"type": "select", "columns": ["id", "email"]},
        {"id": "loud", "type": "uppercase", "columns": ["email"]},
        {"type": "shout", "message": "done"},
    ],
    "output": {"dataset": "loud"},
}


def test_both_plugin_forms_load(catalog) -> None:
    plugins = load_step_plugins([entry_point("uppercase", "UPPERCASE"), entry_point("shout", "Shout")])
    assert [(p.name, p.step_type) for p in plugins] == [("shout", ShoutStep), ("uppercase", UppercaseStep)]
    assert set(catalog.executors) == {ShoutStep, UppercaseStep}


def test_a_plugin_step_parses_only_in_a_catalog_that_has_it(catalog) -> None:
    spec = parse_spec(SPEC, catalog=catalog)
    assert isinstance(spec, PipelineSpec)
    assert isinstance(spec.steps[2], UppercaseStep)
    with pytest.raises(InvalidPipelineSpec):
        parse_spec(SPEC)  # the default catalog has only what is installed
    assert UppercaseStep not in CATALOG.step_types


def test_the_schema_lists_plugin_steps(catalog) -> None:
    mapping = pipeline_json_schema(catalog)["$defs"]["PipelineSpec"]["properties"]["steps"]["items"]["discriminator"]
    assert {"uppercase", "shout", "sql"} <= set(mapping["mapping"])


def test_a_plugin_step_validates_and_runs(catalog, run: Runner) -> None:
    report = validate_spec(SPEC, input_schemas={"orders": [("id", "BIGINT"), ("email", "VARCHAR")]}, catalog=catalog)
    assert report.valid, report.errors
    assert [s.type for s in report.steps] == ["filter", "select", "uppercase"]

    result = run(SPEC, catalog=catalog)
    assert rows_of(result.data_path) == [{"id": 1, "email": "ANN@EXAMPLE.ORG"}]
    assert ("warning", "DONE") in run.lines
    assert [(s.id, s.type, s.how) for s in result.steps][2:] == [
        ("loud", "uppercase", "output"),
        ("step_4", "shout", "action"),
    ]


def test_bad_plugins_are_refused() -> None:
    with pytest.raises(PluginError, match="cannot be loaded"):
        load_step_plugins([entry_point("missing", "NOPE")])
    with pytest.raises(PluginError, match="pair"):
        load_step_plugins([entry_point("not_a_plugin", "MODULE_DOC")])

    class NotAStep(msgspec.Struct, tag_field="type", tag="nope"):
        pass

    class TakesSql(RelationalStep, tag="sql", kw_only=True):
        pass

    with pytest.raises(PluginError, match="must subclass"):
        build_catalog([StepPlugin(name="x", step_type=NotAStep, execute=print)])
    with pytest.raises(PluginError, match="already taken"):
        build_catalog([StepPlugin(name="x", step_type=TakesSql, execute=print)])
