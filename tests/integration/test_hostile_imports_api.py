"""Hostile files through the API: each is a problem+json 4xx with a stable code (never a 500), or a dataset."""

from __future__ import annotations

import zipfile
from pathlib import Path

from litestar.testing import TestClient

from tests.hostile_files import (
    bare_workbook,
    compound_file,
    formula_errors_workbook,
    padded_strings_workbook,
)
from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_


def test_a_workbook_without_sheets_is_a_422_not_a_500(client: TestClient, parts: Engine_, tmp_path: Path) -> None:
    dataset = upload(client, bare_workbook(tmp_path / "none.xlsx", "", "", {}).read_bytes(), "none.xlsx")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert (shown.status_code, shown.json()["code"]) == (422, "empty_workbook")
    assert shown.headers["content-type"].startswith("application/problem+json")
    run = run_import(client, parts, dataset["id"])
    assert (run["status"], run["error"]["code"]) == ("FAILED", "empty_workbook")


def test_a_password_protected_workbook_is_refused_at_upload(client: TestClient, tmp_path: Path) -> None:
    content = compound_file(tmp_path / "x.xlsx", ["EncryptionInfo", "EncryptedPackage"]).read_bytes()
    response = client.post("/api/v1/datasets", files={"file": ("工资表.xlsx", content)}, data={"name": "salaries"})
    assert (response.status_code, response.json()["code"]) == (422, "encrypted")
    assert "password" in response.json()["detail"]


def test_deep_json_and_a_nul_in_a_cell(client: TestClient, parts: Engine_) -> None:
    deep = upload(client, b"[" * 100_000 + b"]" * 100_000, "deep.json")
    shown = client.post(f"/api/v1/datasets/{deep['id']}/preview", json={})
    assert (shown.status_code, shown.json()["code"]) == (422, "too_deep")

    nul = upload(client, b"a,b\n" + b"1,x\n" * 20_000 + b"2,\x00y\n")  # past the sniffer's 64 KB head
    run = run_import(client, parts, nul["id"])
    assert run["status"] == "SUCCEEDED", run
    page = client.get(f"/api/v1/datasets/{nul['id']}/rows", params={"offset": 20_000, "limit": 1}).json()
    assert page["rows"] == [[2, "\x00y"]]


def test_a_zip_that_is_no_workbook_stays_a_415(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    response = client.post("/api/v1/datasets", files={"file": ("a.xlsx", path.read_bytes())}, data={"name": "z"})
    assert (response.status_code, response.json()["code"]) == (415, "content_mismatch")


def test_a_5000_column_csv_previews_its_first_1000_columns(client: TestClient, parts: Engine_) -> None:
    """DuckDB's sniffer needed more than the request's 256 MB for 5,000 columns: the preview was 422
    query_too_expensive; it now shows the first 1,000 and says so, and the import takes every column."""
    header = ",".join(f"c{i}" for i in range(5000))
    body = "".join(",".join(str(r + i) for i in range(5000)) + "\n" for r in range(30))
    dataset = upload(client, (header + "\n" + body).encode(), "wide.csv")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert shown.status_code == 200, shown.text
    assert len(shown.json()["columns"]) == 1000
    assert any(w.startswith("the file has 5000 columns") for w in shown.json()["warnings"])
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    assert len(client.get(f"/api/v1/datasets/{dataset['id']}").json()["columns"]) == 5000


def test_formula_errors_are_shown_and_imported_as_their_text(
    client: TestClient, parts: Engine_, tmp_path: Path
) -> None:
    """#DIV/0!, #N/A and #REF! cells were previewed and imported as blanks, without a word."""
    dataset = upload(client, formula_errors_workbook(tmp_path / "sales.xlsx").read_bytes(), "sales.xlsx")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).json()
    assert shown["rows"][1:4] == [["#DIV/0!", "n3"], ["4.5", "#REF!"], ["#N/A", "n5"]]
    assert shown["suggested_config"]["null_values"] == ["#N/A", "#DIV/0!"]
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    page = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 4}).json()
    assert page["rows"][1:4] == [["#DIV/0!", "n3"], ["4.5", "#REF!"], ["#N/A", "n5"]]


def test_a_huge_json_record_and_a_number_no_float_holds_are_clear_4xx(client: TestClient, parts: Engine_) -> None:
    """A 2nd record holding a 50 MB string: the preview stops within max_line_bytes of it with limit_exceeded (it
    read it whole and could end in query_too_expensive). `1e400` fails preview and import with number_out_of_range."""
    big = upload(client, b'{"id": 1}\n{"id": 2, "note": "' + b"y" * 50 * 1024**2 + b'"}\n', "big.ndjson")
    shown = client.post(f"/api/v1/datasets/{big['id']}/preview", json={})
    assert (shown.status_code, shown.json()["code"]) == (413, "limit_exceeded")
    assert shown.headers["content-type"].startswith("application/problem+json")

    huge = upload(client, b'{"id": 1, "v": 1.5}\n{"id": 2, "v": 1e400}\n', "huge.ndjson")
    shown = client.post(f"/api/v1/datasets/{huge['id']}/preview", json={})
    assert (shown.status_code, shown.json()["code"]) == (422, "number_out_of_range")
    assert "row 2, column 'v'" in shown.json()["detail"]
    run = run_import(client, parts, huge["id"])
    assert run["status"] == "FAILED", run
    assert run["error"]["code"] == "number_out_of_range", run


def test_a_padded_strings_table_is_413_before_calamine_reads_it(
    client: TestClient, parts: Engine_, tmp_path: Path
) -> None:
    """200,000 shared strings under a one-cell sheet: calamine reads the whole table as it opens the workbook, in
    the API process for a preview. Refused with limit_exceeded, by the preview and the import alike."""
    dataset = upload(client, padded_strings_workbook(tmp_path / "padded.xlsx", 200_000).read_bytes(), "padded.xlsx")
    shown = client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert (shown.status_code, shown.json()["code"]) == (413, "limit_exceeded"), shown.text
    assert shown.headers["content-type"].startswith("application/problem+json")
    assert "shared-strings table" in shown.json()["detail"]
    run = run_import(client, parts, dataset["id"])
    assert (run["status"], run["error"]["code"]) == ("FAILED", "limit_exceeded"), run
