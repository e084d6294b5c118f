"""Names people read follow one rule through the API (app/core/display_text.py): 422 naming the field, nothing
stored; NFC before uniqueness, so two spellings of one name collide."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient

from tests.integration.dataset_support import SALES, upload

BAD_NAMES = ["   ", "\u200b\u200b", "invoice\u202etxt.exe", "a\u2028b", "\ufeffname", "a\ufdd0", "a\nb", "a\x07b"]


def _datasets(client: TestClient) -> list[dict]:
    return client.get("/api/v1/datasets", params={"limit": 200}).json()["items"]


def _assert_refused(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [e["field"] for e in body["errors"]] == [field]
    assert "regex" not in body["errors"][0]["message"]  # the rule in words, not the regular expression


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_dataset_name_that_misleads_is_refused_and_nothing_is_stored(client: TestClient, name: str) -> None:
    before = len(_datasets(client))
    response = client.post("/api/v1/datasets", files={"file": ("s.csv", SALES, "text/csv")}, data={"name": name})
    _assert_refused(response, "name")
    assert len(_datasets(client)) == before


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_dataset_rename_that_misleads_is_refused(client: TestClient, name: str) -> None:
    dataset = upload(client, SALES)
    _assert_refused(client.patch(f"/api/v1/datasets/{dataset['id']}", json={"name": name}), "name")
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["name"] == dataset["name"]


def test_chinese_emoji_and_arabic_dataset_names_are_kept(client: TestClient) -> None:
    for name in ["销售数据 2024", "📊 sales 👨\u200d👩\u200d👧", "\u0645\u0628\u064a\u0639\u0627\u062a"]:
        suffix = uuid.uuid4().hex[:6]
        assert upload(client, SALES, name=f"{name} {suffix}")["name"] == f"{name} {suffix}"


def test_two_spellings_of_one_name_are_one_dataset_name(client: TestClient) -> None:
    """`e\\u0301` and `é` looked the same and were stored as two datasets; NFC comes before the unique key."""
    suffix = uuid.uuid4().hex[:6]
    first = upload(client, SALES, name=f"  caf\u00e9 {suffix} ")
    assert first["name"] == f"caf\u00e9 {suffix}"  # trimmed
    response = client.post(
        "/api/v1/datasets", files={"file": ("s.csv", SALES, "text/csv")}, data={"name": f"cafe\u0301 {suffix}"}
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "dataset_name_taken"
    other = upload(client, SALES)
    renamed = client.patch(f"/api/v1/datasets/{other['id']}", json={"name": f"cafe\u0301 {suffix}"})
    assert renamed.status_code == 409, renamed.text


@pytest.mark.parametrize("filename", ["evil\u202evsc.csv", "a\nb.csv", "dir/ \u200b ", "x\u2029.csv"])
def test_an_upload_file_name_that_misleads_is_refused_and_nothing_is_stored(client: TestClient, filename: str) -> None:
    before = len(_datasets(client))
    response = client.post(
        "/api/v1/datasets", files={"file": (filename, SALES, "text/csv")}, data={"name": f"n-{uuid.uuid4().hex[:6]}"}
    )
    _assert_refused(response, "file")
    assert len(_datasets(client)) == before


def test_an_upload_file_name_keeps_its_base_name_and_extension_check(client: TestClient) -> None:
    dataset = upload(client, SALES, filename="C:\\data\\销售.csv")
    assert dataset["file"]["filename"] == "销售.csv"
    download = client.get(f"/api/v1/datasets/{dataset['id']}/download", params={"format": "raw"})
    if download.status_code == 200:
        assert "\n" not in download.headers["content-disposition"]


@pytest.mark.parametrize("filename", ["evil\u202evsc.csv", "a\nb.csv", "   "])
def test_a_resumable_upload_file_name_that_misleads_is_refused(client: TestClient, filename: str) -> None:
    response = client.post("/api/v1/uploads", json={"filename": filename, "size": 10})
    _assert_refused(response, "filename")


@pytest.mark.parametrize("name", [*BAD_NAMES, "a\tb"])
def test_a_token_name_that_misleads_is_refused_and_nothing_is_stored(client: TestClient, name: str) -> None:
    before = client.get("/api/v1/tokens").json()["items"]
    response = client.post("/api/v1/tokens", json={"name": name, "namespace": "default", "role": "viewer"})
    _assert_refused(response, "name")
    assert client.get("/api/v1/tokens").json()["items"] == before


def test_a_token_name_is_stored_normalised(client: TestClient) -> None:
    response = client.post("/api/v1/tokens", json={"name": " cafe\u0301 ", "namespace": "default", "role": "viewer"})
    assert response.status_code == 201, response.text
    names = [t["name"] for t in client.get("/api/v1/tokens").json()["items"]]
    assert "caf\u00e9" in names


@pytest.mark.parametrize("name", [*BAD_NAMES[:-2], "a\nb", "a\tb", "a\x1bb"])
def test_a_display_name_that_misleads_is_refused(client: TestClient, name: str) -> None:
    before = client.get("/api/v1/auth/me").json()["user"]["display_name"]
    _assert_refused(client.patch("/api/v1/auth/me", json={"display_name": name}), "display_name")
    assert client.get("/api/v1/auth/me").json()["user"]["display_name"] == before


def test_a_display_name_may_be_chinese_or_cleared(client: TestClient) -> None:
    assert client.patch("/api/v1/auth/me", json={"display_name": " 王小明 "}).json()["display_name"] == "王小明"
    assert client.patch("/api/v1/auth/me", json={"display_name": ""}).json()["display_name"] == ""


def test_a_new_user_display_name_that_misleads_is_refused(client: TestClient) -> None:
    username = f"u{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": "a long enough password 1", "display_name": "adm\u202enimi"}
    _assert_refused(client.post("/api/v1/users", json=body), "display_name")


def test_a_description_keeps_newlines_but_not_bidi_overrides(client: TestClient) -> None:
    dataset = upload(client, SALES)
    kept = client.patch(f"/api/v1/datasets/{dataset['id']}", json={"description": "line 1\r\nline 2"})
    assert kept.status_code == 200, kept.text
    assert kept.json()["description"] == "line 1\nline 2"
    refused = client.patch(f"/api/v1/datasets/{dataset['id']}", json={"description": "a\u202eb"})
    _assert_refused(refused, "description")
