"""Pipelines over datasets through the API: YAML, validate, run on a worker, lineage, versions, diff, sandbox."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import Engine

from app.settings import Settings
from tests.integration.conftest import make_user, sign_in
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_

PIPELINE_YAML = """
name: {name}
spec:
  inputs:
    sales: {{dataset: {dataset}}}
  params:
    floor: {{type: float, default: 0}}
  steps:
    - {{id: big, type: filter, where: "amount >= $floor"}}
    - {{id: shout, type: sql, sql: "select upper(name) as who, amount from big"}}
    - {{type: sort, by: [{{column: amount, descending: true}}]}}
  output: {{dataset: "{output}"}}
"""


def imported_sales(client: TestClient, parts: Engine_) -> dict:
    dataset = upload(client, SALES)
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    return dataset


def execute(client: TestClient, parts: Engine_, run: dict) -> dict:
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run["id"]))
    return client.get(f"/api/v1/runs/{run['id']}").json()


def create_yaml(client: TestClient, dataset: dict, output: str) -> dict:
    name = f"p-{uuid.uuid4().hex[:8]}"
    body = PIPELINE_YAML.format(name=name, dataset=dataset["name"], output=output)
    response = client.post("/api/v1/pipelines", content=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_pipeline_runs_on_a_worker_and_writes_a_generated_dataset_with_lineage(
    client: TestClient, parts: Engine_
) -> None:
    sales = imported_sales(client, parts)
    output = f"big-sales-{uuid.uuid4().hex[:6]}"
    pipeline = create_yaml(client, sales, output)
    response = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"params": {"floor": 10}})
    assert response.status_code == 201, response.text
    assert response.json()["inputs"]["sales"]["version"] == 1
    run = execute(client, parts, response.json())
    assert run["status"] == "SUCCEEDED", run
    generated = client.get(f"/api/v1/datasets/{run['output_dataset_id']}").json()
    assert (generated["name"], generated["source"], generated["row_count"]) == (output, "generated", 2)
    lineage = generated["versions"][0]["lineage"]
    assert lineage["run_id"] == run["id"]
    assert (lineage["pipeline_id"], lineage["pipeline_version"]) == (pipeline["id"], 1)
    assert lineage["inputs"] == [{"name": "sales", "dataset_id": sales["id"], "version": 1}]
    rows = client.get(f"/api/v1/datasets/{generated['id']}/rows").json()["rows"]
    assert rows == [["CAROL", 40.0], ["ALICE", 12.5]]
    steps = [line["message"] for line in client.get(f"/api/v1/runs/{run['id']}/logs").json()["items"]]
    assert any("big" in m and "rows" in m for m in steps), steps


def test_validate_reports_the_output_schema_or_each_error_by_field(client: TestClient, parts: Engine_) -> None:
    sales = imported_sales(client, parts)
    draft = {"inputs": {"sales": {"dataset": sales["id"]}}, "steps": [{"type": "sql", "sql": "select name from sales"}]}
    ok = client.post("/api/v1/pipelines/validate", json={"spec": draft}).json()
    assert (ok["valid"], [c["name"] for c in ok["output_columns"]]) == (True, ["name"])
    draft["steps"][0]["sql"] = "select nope from sales"
    bad = client.post("/api/v1/pipelines/validate", json={"spec": draft}).json()
    assert (bad["valid"], bad["errors"][0]["field"]) == (False, "steps[0].sql")
    missing = client.post(
        "/api/v1/pipelines/validate", json={"spec": {**draft, "inputs": {"sales": {"dataset": "no-such"}}}}
    ).json()
    assert (missing["valid"], missing["errors"][0]["code"]) == (False, "input_not_found")
    schema = client.get("/api/v1/pipelines/schema").json()
    assert "dedupe" in str(schema)


def test_versions_diff_and_archive(client: TestClient, parts: Engine_) -> None:
    sales = imported_sales(client, parts)
    pipeline = create_yaml(client, sales, "out")
    spec = client.get(f"/api/v1/pipelines/{pipeline['id']}").json()["spec"]
    spec["steps"][0]["where"] = "amount > 20"
    changed = client.put(f"/api/v1/pipelines/{pipeline['id']}", json={"spec": spec, "message": "stricter"})
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    versions = client.get(f"/api/v1/pipelines/{pipeline['id']}/versions").json()
    assert [(v["version"], v["message"]) for v in versions["items"]] == [(2, "stricter"), (1, "")]
    assert versions["next_cursor"] is None
    first = client.get(f"/api/v1/pipelines/{pipeline['id']}/versions/1").json()
    assert (first["version"], first["spec"]["steps"][0]["where"]) == (1, "amount >= $floor")
    diff = client.get(f"/api/v1/pipelines/{pipeline['id']}/diff").json()
    assert diff["changes"] == [
        {"path": "steps[0].where", "change": "changed", "before": "amount >= $floor", "after": "amount > 20"}
    ]
    assert '+      "where": "amount > 20"' in diff["unified"]
    assert client.post(f"/api/v1/pipelines/{pipeline['id']}/archive").status_code == 200
    assert client.get(f"/api/v1/pipelines/{pipeline['id']}").status_code == 404
    refused = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={})
    assert refused.status_code == 404


def test_the_versions_of_a_pipeline_are_paged_without_their_specs(client: TestClient, pipeline: dict) -> None:
    """Every version with its spec (up to 1 MiB each) came in one answer, however many there were."""
    for n in range(2, 6):
        changed = client.put(f"/api/v1/pipelines/{pipeline['id']}", json={"spec": {"steps": []}, "message": f"m{n}"})
        assert changed.status_code == 200, changed.text
    url = f"/api/v1/pipelines/{pipeline['id']}/versions"
    first = client.get(url, params={"limit": 2}).json()
    assert [v["version"] for v in first["items"]] == [5, 4]
    assert all("spec" not in v for v in first["items"])
    second = client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = client.get(url, params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert ([v["version"] for v in second["items"]], [v["version"] for v in third["items"]]) == ([3, 2], [1])
    assert third["next_cursor"] is None
    for bad in ({"limit": 0}, {"limit": 501}, {"cursor": "not-a-cursor"}):
        refused = client.get(url, params=bad)
        assert refused.status_code == 400, refused.text
    one = client.get(f"{url}/3").json()
    latest = client.get(f"/api/v1/pipelines/{pipeline['id']}").json()
    assert (one["version"], one["message"], one["spec"]) == (3, "m3", latest["spec"])
    missing = client.get(f"{url}/6")
    assert (missing.status_code, missing.json()["code"]) == (404, "pipeline_version_not_found")
    assert client.get(f"{url}/{2**31}").status_code == 400


def test_the_sandbox_refuses_reading_other_files(client: TestClient, parts: Engine_) -> None:
    sales = imported_sales(client, parts)
    spec = {
        "inputs": {"sales": {"dataset": sales["id"]}},
        "steps": [{"type": "sql", "sql": "select * from read_csv('/etc/passwd')"}],
        "output": {"dataset": f"leak-{uuid.uuid4().hex[:6]}"},
    }
    created = client.post("/api/v1/pipelines", json={"name": f"leak-{uuid.uuid4().hex[:6]}", "spec": spec}).json()
    run = execute(client, parts, client.post(f"/api/v1/pipelines/{created['id']}/runs", json={}).json())
    assert (run["status"], run["error"]["code"]) == ("FAILED", "sandbox_violation")


def test_bad_run_requests_are_422_naming_the_field(client: TestClient, parts: Engine_) -> None:
    sales = imported_sales(client, parts)
    pipeline = create_yaml(client, sales, "out2")
    wrong_param = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"params": {"floor": "lots"}})
    assert (wrong_param.status_code, wrong_param.json()["code"]) == (422, "invalid_pipeline_params")
    wrong_input = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"inputs": {"nope": sales["id"]}})
    assert (wrong_input.status_code, wrong_input.json()["errors"][0]["field"]) == (422, "inputs.nope")
    bad_yaml = client.post("/api/v1/pipelines", content=b"name: [", headers={"Content-Type": "application/yaml"})
    assert (bad_yaml.status_code, bad_yaml.json()["code"]) == (422, "invalid_yaml")


def test_a_version_past_a_postgres_integer_is_refused_naming_the_field(client: TestClient, pipeline: dict) -> None:
    """Both reached the `integer` column and answered 500 (NumericValueOutOfRange)."""
    run = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"version": 2**31})
    assert run.status_code == 422, run.text
    assert run.json()["errors"][0]["field"] == "version"
    sales = upload(client, SALES)
    pinned = {"steps": [], "inputs": {"sales": {"dataset": sales["id"], "version": 2**31}}}
    report = client.post("/api/v1/pipelines/validate", json={"spec": pinned})
    assert report.status_code == 200, report.text
    assert report.json()["valid"] is False
    assert report.json()["errors"][0]["field"] == "spec.inputs[...].version"


def test_a_run_resolved_on_the_worker_reads_no_dataset_of_another_namespace(
    client: TestClient, parts: Engine_, engine: Engine, fast_settings: Settings
) -> None:
    """POST /runs pins no inputs: the worker found any dataset by id, so an editor read a namespace not theirs."""
    assert client.post("/api/v1/namespaces", json={"name": "secret"}).status_code == 201
    hidden = client.post(
        "/api/v1/datasets?namespace=secret",
        files={"file": ("secret.csv", b"id,secret\n1,hunter2\n", "text/csv")},
        data={"name": "secret"},
    ).json()
    assert run_import(client, parts, hidden["id"])["status"] == "SUCCEEDED"
    make_user(engine, fast_settings, "editor")
    member = client.post("/api/v1/namespaces/default/members", json={"username": "editor", "role": "editor"})
    assert member.status_code == 200, member.text
    editor = {"Authorization": f"Bearer {sign_in(client, 'editor')['access_token']}"}
    assert client.get(f"/api/v1/datasets/{hidden['id']}", headers=editor).status_code == 404

    spec = {
        "inputs": {"src": {"dataset": hidden["id"]}},
        "steps": [{"type": "sql", "sql": "select * from src"}],
        "output": {"dataset": "stolen"},
    }
    assert client.post("/api/v1/pipelines", json={"name": "thief", "spec": spec}, headers=editor).status_code == 201
    submitted = client.post("/api/v1/runs", json={"pipeline": "thief"}, headers=editor)
    assert submitted.status_code == 201, submitted.text
    run = execute(client, parts, submitted.json())

    assert (run["status"], run["error"]["code"]) == ("FAILED", "input_not_found")
    assert run["output_dataset_id"] is None
    assert [d["name"] for d in client.get("/api/v1/datasets", headers=editor).json()["items"]] == []


def test_a_spec_past_a_mebibyte_is_refused_on_create_and_change(client: TestClient, pipeline: dict) -> None:
    """A YAML body held 1 MiB but a JSON spec up to the 10 MB body limit, and GET …/versions echoes every
    version's spec: four 9 MB versions made one answer 36 MB and grew the API by 330 MB."""
    big = {"steps": [{"type": "log", "message": "m" * 9000} for _ in range(120)]}
    created = client.post("/api/v1/pipelines", json={"name": "big", "spec": big})
    changed = client.put(f"/api/v1/pipelines/{pipeline['id']}", json={"spec": big})
    for response in (created, changed):
        assert response.status_code == 422, response.text[:300]
        assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("spec_too_large", "spec")
    assert client.get("/api/v1/pipelines/big").status_code == 404
    assert [v["version"] for v in client.get(f"/api/v1/pipelines/{pipeline['id']}/versions").json()["items"]] == [1]
    big["steps"] = big["steps"][:100]  # 900 KB: within the bound
    assert client.post("/api/v1/pipelines", json={"name": "big", "spec": big}).status_code == 201


def test_a_templated_log_message_is_cut_at_what_its_field_may_hold(client: TestClient, parts: Engine_) -> None:
    """`{{ params.x }}` 700 times over a 60 KB parameter rendered one 42 MB log line, which GET …/logs sent whole."""
    spec = {"params": {"x": {"type": "string"}}, "steps": [{"type": "log", "message": "{{ params.x }}" * 100}]}
    created = client.post("/api/v1/pipelines", json={"name": "loud", "spec": spec})
    assert created.status_code == 201, created.text
    submitted = client.post(f"/api/v1/pipelines/{created.json()['id']}/runs", json={"params": {"x": "y" * 1000}})
    assert execute(client, parts, submitted.json())["status"] == "SUCCEEDED"
    messages = [line["message"] for line in client.get(f"/api/v1/runs/{submitted.json()['id']}/logs").json()["items"]]
    loud = next(m for m in messages if m.startswith("y"))
    assert loud == "y" * 10_000 + "… (90000 more characters cut)"


def test_a_parameter_next_to_a_chinese_column_name_validates_and_runs(client: TestClient, parts: Engine_) -> None:
    """`金额 >= $floor` was saved but could not be bound: the placeholder was looked for at DuckDB's
    byte offsets in the character string."""
    dataset = upload(client, "名字,金额\n甲,12.5\n乙,3\n丙,40\n".encode(), filename="销售.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    spec = {
        "inputs": {"sales": {"dataset": dataset["id"]}},
        "params": {"floor": {"type": "float", "default": 0}},
        "steps": [{"type": "filter", "where": "金额 >= $floor"}, {"type": "filter", "where": '"金额" < $floor * 4'}],
        "output": {"dataset": f"大单-{uuid.uuid4().hex[:6]}"},
    }
    report = client.post("/api/v1/pipelines/validate", json={"spec": spec, "params": {"floor": 10}}).json()
    assert (report["valid"], report["errors"]) == (True, [])
    created = client.post("/api/v1/pipelines", json={"name": f"cn-{uuid.uuid4().hex[:6]}", "spec": spec})
    assert created.status_code == 201, created.text
    submitted = client.post(f"/api/v1/pipelines/{created.json()['id']}/runs", json={"params": {"floor": 10}})
    run = execute(client, parts, submitted.json())
    assert run["status"] == "SUCCEEDED", run
    rows = client.get(f"/api/v1/datasets/{run['output_dataset_id']}/rows").json()["rows"]
    assert rows == [["甲", 12.5]]
