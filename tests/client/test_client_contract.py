"""Every request the client can make exists in the API's OpenAPI document: method, path, query and headers.

Each Client method is called once with its requests captured (an httpx transport that records and gives a
canned answer); the document comes from `python -m app.api.openapi_document`, as the console's types do.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import Client, flows

ID = "0190a8f0-0000-7000-8000-000000000001"
ANSWER: dict[str, Any] = {
    "id": ID,
    "status": "SUCCEEDED",
    "missing": [[0, 4]],
    "runs": [{"id": ID, "created_at": "2026-12-03T04:00:00+00:00"}],
    "items": [],
    "next_cursor": None,
    "next_after": 0,
    "access_token": "a",
    "refresh_token": "r",
}
STREAM = b'id: 1\nevent: log\ndata: {"n": 1}\n\nevent: end\ndata: {"status": "SUCCEEDED"}\n\n'
#: Headers the client sets that are about the body, not operation parameters.
BODY_HEADERS = {"content-type", "content-range", "content-length"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "app.api.openapi_document"], capture_output=True, check=True)
    return json.loads(out.stdout)


def captured(tmp_path: Path) -> list[httpx.Request]:
    """The requests of one call of every Client operation."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("/logs/stream"):
            return httpx.Response(200, content=STREAM, headers={"Content-Type": "text/event-stream"})
        if request.url.path.endswith("/download"):
            return httpx.Response(200, content=b"a,b\n")
        return httpx.Response(200, json=ANSWER)

    http = httpx.Client(base_url="http://conveyor.test", transport=httpx.MockTransport(answer))
    client = Client("http://conveyor.test", "t", refresh_token="r", http=http)
    upload = tmp_path / "four.csv"
    upload.write_bytes(b"a\n1\n")
    client.login("admin", "pw")
    client.logout()
    client.me()
    client.submit_run("hello", {"day": 1}, idempotency_key="k")
    client.submit_batch([{"pipeline": "hello"}], idempotency_key="k")
    client.get_run(ID)
    list(client.iter_runs(status=["FAILED"], pipeline=ID, namespace="default", limit=10))
    client.cancel_run(ID)
    client.retry_run(ID)
    client.run_log(ID, after=3)
    client.wait_for_run(ID)
    list(client.follow_log(ID, last_event_id="4"))
    client.get_dataset(ID)
    list(client.paginate(flows.list_datasets, search="x", limit=5))
    client.preview_dataset(ID, {"sheet": 0}, rows=5)
    client.import_dataset(ID, {"header_row": 1}, idempotency_key="k")
    client.dataset_rows(ID, offset=0, limit=5, version=1)
    client.wait_for_dataset(ID, ID)
    client.download_dataset(ID, tmp_path / "out.csv", format="csv", version=1)
    client.upload_file(upload, chunk_size=2)
    list(client.paginate(flows.list_deployments, limit=5))
    client.get_deployment(ID)
    client.pause_deployment(ID)
    client.resume_deployment(ID)
    client.trigger_deployment(ID, {"day": 1}, idempotency_key="k")
    client.run(flows_refresh())
    return requests


def flows_refresh() -> Any:
    """The token refresh the client does by itself on a 401."""
    from app.client.http import Call, request

    return request(Call("POST", f"{flows.API}/auth/refresh", json={"refresh_token": "r"}))


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for template, operations in document["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method.lower() in operations:
            return dict(operations[method.lower()])
    return None


def test_every_request_of_the_client_is_an_operation_of_the_api(document: dict[str, Any], tmp_path: Path) -> None:
    requests = captured(tmp_path)
    assert len(requests) >= 30
    problems = []
    used = set()
    for request in requests:
        op = operation(document, request.method, request.url.path)
        if op is None:
            problems.append(f"{request.method} {request.url.path}: no such operation")
            continue
        used.add(op["operationId"])
        declared = {(p["in"], p["name"].lower()) for p in op.get("parameters", [])}
        for name in {k for k, _ in request.url.params.multi_items()}:
            if ("query", name.lower()) not in declared:
                problems.append(f"{op['operationId']}: query parameter {name!r} is not declared")
        for name in {"idempotency-key", "last-event-id"} & {h.lower() for h in request.headers}:
            if ("header", name) not in declared:
                problems.append(f"{op['operationId']}: header {name!r} is not declared")
    assert not problems, "\n".join(problems)
    # The operations the CLI is built on are all reached (a renamed route would drop out of this set).
    assert {
        "submitRun",
        "submitRuns",
        "listRuns",
        "streamRunLog",
        "createUpload",
        "putUploadChunk",
        "completeUpload",
        "importDataset",
        "downloadDataset",
        "triggerDeployment",
        "pauseDeployment",
        "refreshTokens",
    } <= used
