"""Pipelines with real processes: a YAML spec over an imported dataset, run on a worker, read back with lineage."""

from __future__ import annotations

import uuid

import pytest

from tests.acceptance.dataset_calls import FINAL, imported, upload
from tests.acceptance.harness import ConveyorSystem, wait_until

pytestmark = pytest.mark.acceptance

SPEC = """
name: {name}
spec:
  inputs: {{sales: {{dataset: {dataset}}}}}
  params: {{floor: {{type: integer, default: 0}}}}
  steps:
    - {{id: big, type: filter, where: "people >= $floor"}}
    - {{id: per_letter, type: sql, sql: "select left(city, 2) as prefix, sum(people) as total from big group by 1"}}
    - {{type: sort, by: [prefix]}}
  output: {{dataset: "{output}"}}
"""


def finished(system: ConveyorSystem, run_id: str) -> dict:
    wait_until(lambda: system.run(run_id)["status"] in FINAL, timeout=120, what=f"run {run_id} to end")
    return system.run(run_id)


def test_a_yaml_pipeline_runs_on_a_worker_and_its_output_names_its_lineage(system: ConveyorSystem) -> None:
    content = b"city,people\n" + b"".join(f"c{i % 3},{i}\n".encode() for i in range(1000))
    dataset = upload(system, "cities.csv", content).json()
    assert imported(system, dataset["id"])["status"] == "SUCCEEDED"
    output = f"per-prefix-{uuid.uuid4().hex[:6]}"
    body = SPEC.format(name=f"p-{uuid.uuid4().hex[:8]}", dataset=dataset["id"], output=output)
    created = system.http.post("/api/v1/pipelines", content=body, headers={"Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    response = system.http.post(f"/api/v1/pipelines/{created.json()['id']}/runs", json={"params": {"floor": 500}})
    assert response.status_code == 201, response.text
    run = finished(system, response.json()["id"])
    assert run["status"] == "SUCCEEDED", run
    generated = system.http.get(f"/api/v1/datasets/{run['output_dataset_id']}").json()
    assert generated["name"] == output
    assert generated["versions"][0]["lineage"]["inputs"] == [
        {"name": "sales", "dataset_id": dataset["id"], "version": 1}
    ]
    rows = system.http.get(f"/api/v1/datasets/{generated['id']}/rows").json()["rows"]
    expected = {f"c{k}": sum(i for i in range(500, 1000) if i % 3 == k) for k in range(3)}
    assert rows == [[prefix, total] for prefix, total in sorted(expected.items())]


def test_a_pipeline_cannot_read_outside_its_inputs(system: ConveyorSystem) -> None:
    dataset = upload(system, "x.csv", b"a\n1\n").json()
    assert imported(system, dataset["id"])["status"] == "SUCCEEDED"
    spec = {
        "inputs": {"x": {"dataset": dataset["id"]}},
        "steps": [{"type": "sql", "sql": "select * from read_csv('/etc/passwd')"}],
        "output": {"dataset": f"leak-{uuid.uuid4().hex[:6]}"},
    }
    created = system.http.post("/api/v1/pipelines", json={"name": f"leak-{uuid.uuid4().hex[:6]}", "spec": spec})
    run = finished(system, system.http.post(f"/api/v1/pipelines/{created.json()['id']}/runs", json={}).json()["id"])
    assert (run["status"], run["error"]["code"]) == ("FAILED", "sandbox_violation")
    system.assert_healthy()
