"""A dataset version keeps its import's warnings as notices (code and parameters), so a console words them in its
own language; a version written before they were kept answers `notices: null` and its English `warnings`."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import text

from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_


def test_an_imported_version_answers_its_warnings_as_notices(client: TestClient, parts: Engine_) -> None:
    # Given a CSV whose header names a column twice
    dataset = upload(client, b"name,name,amount\nalice,a,1\nbob,b,2\n", "twice.csv")
    # When it is imported
    run = run_import(client, parts, dataset["id"])
    assert run["status"] == "SUCCEEDED", run
    # Then its version has the warning as a notice, with the parameters a console words it with, and the text too
    version = client.get(f"/api/v1/datasets/{dataset['id']}").json()["versions"][0]
    duplicate = [n for n in version["notices"] if n["code"] == "duplicate_column"]
    assert len(duplicate) == 1, version["notices"]
    assert (duplicate[0]["name"], duplicate[0]["column"]) == ("name", 2)
    assert duplicate[0]["renamed"]
    assert duplicate[0]["message"] in version["warnings"]
    assert [n["message"] for n in version["notices"]] == version["warnings"]
    paged = client.get(f"/api/v1/datasets/{dataset['id']}/versions").json()["items"][0]
    assert paged["notices"] == version["notices"]


def test_a_version_from_before_notices_answers_null_and_its_text(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, b"name,name\nalice,a\n", "old.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    with parts.engine.begin() as conn:  # as a version written before migration 0020
        conn.execute(
            text("UPDATE dataset_versions SET notices = NULL WHERE dataset_id = :d"), {"d": uuid.UUID(dataset["id"])}
        )
    version = client.get(f"/api/v1/datasets/{dataset['id']}").json()["versions"][0]
    assert version["notices"] is None
    assert any("duplicate column name" in w for w in version["warnings"])


def test_an_unknown_stored_code_reads_as_other(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, b"a\n1\n", "plain.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    stored = '[{"code": "from_a_newer_writer", "message": "something new", "x": 1}]'
    with parts.engine.begin() as conn:
        conn.execute(
            text("UPDATE dataset_versions SET notices = CAST(:n AS jsonb) WHERE dataset_id = :d"),
            {"n": stored, "d": uuid.UUID(dataset["id"])},
        )
    version = client.get(f"/api/v1/datasets/{dataset['id']}").json()["versions"][0]
    assert version["notices"] == [{"code": "other", "message": "something new"}]
