"""The data center through the API: upload, preview, import on a worker, browse, download, change, delete."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.core.states import RunStatus
from scheduler.cleanup import Cleanup
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count


def test_an_uploaded_csv_is_previewed_imported_and_browsed(client: TestClient, parts: Engine_, engine: Engine) -> None:
    dataset = upload(client, SALES, tags="finance, monthly")
    assert (dataset["status"], dataset["file"]["format"], dataset["tags"]) == (
        "uploaded",
        "csv",
        ["finance", "monthly"],
    )
    preview = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert [c["name"] for c in preview["columns"]] == ["name", "amount", "day"]
    assert preview["rows"][0] == ["alice", 12.5, "2026-01-02"]
    assert preview["config"]["delimiter"] == ","

    run = run_import(client, parts, dataset["id"], {"columns": {"amount": {"name": "total"}}})
    assert (run["status"], run["kind"], run["dataset_id"]) == ("SUCCEEDED", "ingest", dataset["id"])
    assert run["progress"]["rows"] == 4
    ready = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert (ready["status"], ready["current_version"], ready["row_count"]) == ("ready", 1, 4)
    total = next(c for c in ready["columns"] if c["name"] == "total")
    assert (total["type"], total["nulls"], total["max"]) == ("float", 1, "40.0")
    assert count(engine, "events", "type = 'dataset.ingested' AND dataset_id = :id", id=dataset["id"]) == 1
    imports = client.get("/api/v1/runs", params={"dataset_id": dataset["id"]}).json()["items"]
    assert [r["id"] for r in imports] == [run["id"]]

    page = client.get(
        f"/api/v1/datasets/{dataset['id']}/rows",
        params={"columns": "name,total", "order_by": "-total", "filter": "total:gt:5", "limit": 1},
    ).json()
    assert (page["rows"], page["total"], page["version"]) == ([["carol", 40.0]], 2, 1)
    assert page["columns"] == [{"name": "name", "type": "string"}, {"name": "total", "type": "float"}]


def test_downloads_stream_each_format(client: TestClient, parts: Engine_, tmp_path: Path) -> None:
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])
    base = f"/api/v1/datasets/{dataset['id']}/download"
    assert client.get(base, params={"format": "raw"}).content == SALES
    rows = list(csv.reader(io.StringIO(client.get(base, params={"format": "csv"}).text)))
    assert (rows[0], len(rows)) == (["name", "amount", "day"], 5)
    lines = client.get(base, params={"format": "json"}).text.splitlines()
    assert json.loads(lines[2]) == {"name": "carol", "amount": 40.0, "day": "2026-01-04"}
    (tmp_path / "x.parquet").write_bytes(client.get(base, params={"format": "parquet"}).content)
    assert pq.read_table(tmp_path / "x.parquet").num_rows == 4


def test_a_csv_download_starts_with_a_byte_order_mark_when_asked(client: TestClient, parts: Engine_) -> None:
    """Excel on a Chinese Windows reads a CSV without one as GBK: every 中文 header and cell garbled."""
    dataset = upload(client, "名称,金额\n苹果,3\n".encode())
    run_import(client, parts, dataset["id"])
    base = f"/api/v1/datasets/{dataset['id']}/download"
    asked = client.get(base, params={"format": "csv", "bom": "true"}).content
    assert asked.startswith(b"\xef\xbb\xbf")
    assert asked[3:].decode().splitlines() == ['"名称","金额"', '"苹果",3']
    assert not client.get(base, params={"format": "csv"}).content.startswith(b"\xef\xbb\xbf")  # programs' default
    assert client.get(base, params={"format": "json", "bom": "true"}).content.startswith(b"{")  # CSV only
    audit = client.get("/api/v1/audit/export", params={"format": "csv", "bom": "true"}).content
    assert audit.startswith(b"\xef\xbb\xbfid,at,")


def test_a_csv_download_defuses_cells_a_spreadsheet_would_run(client: TestClient, parts: Engine_) -> None:
    """CSV injection: an uploaded `=cmd|...` cell came back verbatim, and Excel/WPS run it even when quoted."""
    hostile = b"=name,note,n\nalice,\"=cmd|' /C calc'!A0\",-2\nbob,+1+1,3\ncarol,@SUM(A1),4\ndave,-2+3,5\nerin,a=b,6\n"
    dataset = upload(client, hostile)
    run_import(client, parts, dataset["id"])
    base = f"/api/v1/datasets/{dataset['id']}/download"
    rows = list(csv.reader(io.StringIO(client.get(base, params={"format": "csv"}).text)))
    assert rows[0] == ["'=name", "note", "n"]
    assert [r[1] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "'+1+1", "'@SUM(A1)", "'-2+3", "a=b"]
    assert [r[2] for r in rows[1:]] == ["-2", "3", "4", "5", "6"]  # numbers stay numbers
    # the exact values everywhere else
    lines = client.get(base, params={"format": "json"}).text.splitlines()
    assert json.loads(lines[0]) == {"=name": "alice", "note": "=cmd|' /C calc'!A0", "n": -2}


def test_a_failed_import_leaves_the_previous_version_readable(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])
    run = run_import(client, parts, dataset["id"], {"columns": {"name": {"type": "integer"}}, "on_error": "strict"})
    assert (run["status"], run["error"]["code"]) == ("FAILED", "import_failed")
    first = run["progress"]["problems"][0]  # the console lists these with their row and column
    assert (first["row"], first["column"]) == (2, "name"), first
    after = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert (after["status"], after["current_version"], [v["version"] for v in after["versions"]]) == ("ready", 1, [1])
    assert "alice" in after["last_error"] or "integer" in after["last_error"]
    assert client.get(f"/api/v1/datasets/{dataset['id']}/rows").json()["total"] == 4
    assert count(engine, "events", "type = 'dataset.import.failed' AND dataset_id = :id", id=dataset["id"]) == 1
    again = run_import(client, parts, dataset["id"], {"limit": 2})
    assert again["status"] == RunStatus.SUCCEEDED.value
    url = f"/api/v1/datasets/{dataset['id']}/versions"
    versions = client.get(url).json()["items"]
    assert [(v["version"], v["row_count"]) for v in versions] == [(2, 2), (1, 4)]
    made = [v["made_by"] for v in versions]  # who made each version: the import run and its user
    # paged like every list (it came whole, however many versions there were)
    first = client.get(url, params={"limit": 1}).json()
    second = client.get(url, params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [[v["version"] for v in p["items"]] for p in (first, second)] == [[2], [1]]
    assert (second["next_cursor"], second["items"][0]["made_by"]["username"]) == (None, "root")
    for bad, code in (({"limit": 0}, 400), ({"limit": 501}, 400), ({"cursor": "nope"}, 400)):
        assert client.get(url, params=bad).status_code == code, bad
    assert [(m["run_kind"], m["trigger"], m["username"]) for m in made] == [("ingest", "api", "root")] * 2, made
    old = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"version": 1}).json()
    assert old["total"] == 4


def test_rename_tag_list_filter_and_soft_delete(client: TestClient, parts: Engine_, settings) -> None:  # type: ignore[no-untyped-def]
    unique = uuid.uuid4().hex[:8]
    dataset = upload(client, SALES, name=f"first-{unique}")
    changed = client.patch(f"/api/v1/datasets/{dataset['id']}", json={"name": f"q1-{unique}", "tags": [unique]})
    assert (changed.json()["name"], changed.json()["tags"]) == (f"q1-{unique}", [unique])
    other = upload(client, SALES, name=f"first-{unique}")  # the old name is free again
    listed = client.get("/api/v1/datasets", params={"tag": unique}).json()["items"]
    assert [d["id"] for d in listed] == [dataset["id"]]
    found = client.get("/api/v1/datasets", params={"search": f"first-{unique}"}).json()["items"]
    assert [d["id"] for d in found] == [other["id"]]
    assert client.delete(f"/api/v1/datasets/{dataset['id']}").status_code == 204
    gone = client.get(f"/api/v1/datasets/{dataset['id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, "dataset_not_found")
    taken = client.post(
        "/api/v1/datasets", files={"file": ("s.csv", SALES, "text/csv")}, data={"name": f"first-{unique}"}
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "dataset_name_taken")
    upload(client, SALES, name=f"q1-{unique}")  # a deleted dataset's name is free


@pytest.mark.parametrize(
    ("filename", "content", "status", "code"),
    [
        ("sales.xlsx", SALES, 415, "content_mismatch"),
        ("empty.csv", b"", 415, "empty_file"),
        ("../../etc/passwd.csv", b"\x00\x01\x02\x03binary\xff\xfe" * 100, 415, "content_mismatch"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    client: TestClient,
    engine: Engine,
    settings,
    filename: str,
    content: bytes,
    status: int,
    code: str,  # type: ignore[no-untyped-def]
) -> None:
    before = count(engine, "datasets"), count(engine, "uploads")
    response = client.post("/api/v1/datasets", files={"file": (filename, content, "text/csv")}, data={"name": "x"})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (count(engine, "datasets"), count(engine, "uploads")) == before
    assert response.headers["content-type"].startswith("application/problem+json")
    uploads = Path(settings.data_root) / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_a_bad_import_configuration_is_422_naming_the_field(client: TestClient, engine: Engine) -> None:
    dataset = upload(client, SALES)
    response = client.post(f"/api/v1/datasets/{dataset['id']}/imports", json={"on_error": "sometimes"})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_import_config")
    assert response.json()["errors"][0]["field"] == "on_error"
    assert count(engine, "runs", "dataset_id = :id", id=dataset["id"]) == 0


def test_previewing_as_utf_16_a_file_without_a_byte_order_mark_is_422_naming_encoding(client: TestClient) -> None:
    """Python's utf-16 decoder refuses such a file whatever `errors` says: the preview answered 500."""
    dataset = upload(client, SALES)
    response = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={"encoding": "utf-16"})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_import_config")
    assert response.json()["errors"][0]["field"] == "encoding"


def stored_files(root: Path) -> set[str]:
    """Files under the data root, relative to it (scratch space left out)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"}


def test_the_cleanup_job_removes_deleted_datasets_and_expired_uploads_files(
    client: TestClient,
    parts: Engine_,
    engine: Engine,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    dataset = upload(client, SALES)
    run_import(client, parts, dataset["id"])
    kept = upload(client, SALES)
    abandoned = client.post("/api/v1/uploads", json={"filename": "a.csv", "size": 10}).json()
    root = Path(settings.data_root)
    before = stored_files(root)
    assert client.delete(f"/api/v1/datasets/{dataset['id']}").status_code == 204
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE uploads SET expires_at = now() - interval '1 second' WHERE status = 'open'")
    immediate = msgspec.structs.replace(settings, dataset_retention_hours=0)
    done = Cleanup(engine=engine, settings=immediate).run_once()
    assert (done["datasets"], done["uploads"]) == (1, 1)
    after = stored_files(root)
    gone = {p.split("/")[0] for p in before - after}
    assert gone == {"datasets", "uploads"}
    assert all(dataset["id"] not in str(p) and abandoned["id"] not in str(p) for p in after)
    assert client.get(f"/api/v1/datasets/{kept['id']}/download", params={"format": "raw"}).content == SALES
    again = Cleanup(engine=engine, settings=immediate).run_once()
    assert (again["datasets"], again["uploads"]) == (0, 0)


def test_an_upload_takes_at_most_50_tags_as_a_patch_does(client: TestClient) -> None:
    """The form's tags had no count limit (a PATCH has 50): 10,000 tags were stored with the dataset."""
    tags = ", ".join(f"t{n}" for n in range(51))
    response = client.post(
        "/api/v1/datasets", files={"file": ("sales.csv", SALES, "text/csv")}, data={"name": "many-tags", "tags": tags}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "tags"
    assert upload(client, SALES, tags=", ".join(f"t{n}" for n in range(50)))["tags"][-1] == "t49"
