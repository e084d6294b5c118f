"""GET of one dataset embeds its newest versions only, with their count and the cursor to the rest."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import Engine, text

from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_


def _more_versions(engine: Engine, dataset_id: str, upto: int) -> None:
    """Versions 2..upto of the dataset, as that many imports would have left them (version 1's figures)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO dataset_versions (dataset_id, version, run_id, upload_id, row_count, size_bytes, "
                "source_bytes, rejected_rows, columns, config, warnings, lineage) "
                "SELECT v.dataset_id, n, gen_random_uuid(), v.upload_id, v.row_count, v.size_bytes, v.source_bytes, "
                "v.rejected_rows, v.columns, v.config, v.warnings, v.lineage "
                "FROM dataset_versions v, generate_series(2, :upto) n WHERE v.dataset_id = :id AND v.version = 1"
            ),
            {"id": dataset_id, "upto": upto},
        )
        connection.execute(
            text("UPDATE datasets SET current_version = :upto WHERE id = :id"), {"id": dataset_id, "upto": upto}
        )


def test_a_dataset_embeds_its_newest_20_versions_with_their_count_and_pages_the_rest(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    """Every version came embedded, unpaged: an import a minute for a year is 500,000 of them in one answer."""
    dataset = upload(client, SALES)
    first = run_import(client, parts, dataset["id"])
    _more_versions(engine, dataset["id"], 2_000)
    shown = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert [v["version"] for v in shown["versions"]] == list(range(2_000, 1_980, -1))
    assert shown["version_count"] == 2_000
    # the rest through the paged list, from the cursor it gives: every version once, down to the first
    url = f"/api/v1/datasets/{dataset['id']}/versions"
    seen, cursor = [v["version"] for v in shown["versions"]], shown["versions_next_cursor"]
    while cursor is not None:
        page = client.get(url, params={"limit": 500, "cursor": cursor}).json()
        seen += [v["version"] for v in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(range(2_000, 0, -1))
    # the version a run wrote, found by its run however old it is
    made = client.get(url, params={"run_id": first["id"]}).json()
    assert ([v["version"] for v in made["items"]], made["next_cursor"]) == ([1], None)
    assert client.get(url, params={"run_id": "nope"}).status_code == 400
    # a list of datasets embeds none
    listed = client.get("/api/v1/datasets", params={"search": dataset["name"]}).json()["items"]
    assert [(d["versions"], d["version_count"], d["versions_next_cursor"]) for d in listed] == [(None, None, None)]


def test_a_dataset_with_few_versions_embeds_them_all_and_no_cursor(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, SALES)
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["version_count"] == 0
    run_import(client, parts, dataset["id"])
    run_import(client, parts, dataset["id"])
    shown = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert ([v["version"] for v in shown["versions"]], shown["version_count"], shown["versions_next_cursor"]) == (
        [2, 1],
        2,
        None,
    )


def test_the_openapi_document_states_the_bound(client: TestClient) -> None:
    schema = client.get("/api/docs/openapi.json").json()["components"]["schemas"]["DatasetOut"]["properties"]
    assert schema["versions"]["maxItems"] == 20
    assert {"version_count", "versions_next_cursor"} <= set(schema)


def _drop_versions(engine: Engine, dataset_id: str, numbers: str) -> None:
    """Versions gone from the middle of the history, as retention or a deleted version would leave it."""
    with engine.begin() as connection:
        connection.execute(
            text(f"DELETE FROM dataset_versions WHERE dataset_id = :id AND version IN ({numbers})"), {"id": dataset_id}
        )


def test_the_version_count_is_the_versions_there_are_when_their_numbers_have_gaps(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    """The count was the newest version's number, which is how many there are only while no number is missing."""
    few, many = upload(client, SALES), upload(client, SALES)
    for dataset, upto in ((few, 5), (many, 60)):
        run_import(client, parts, dataset["id"])
        _more_versions(engine, dataset["id"], upto)
    _drop_versions(engine, few["id"], "3, 4")
    _drop_versions(engine, many["id"], "SELECT generate_series(2, 31)")
    shown = client.get(f"/api/v1/datasets/{few['id']}").json()
    assert ([v["version"] for v in shown["versions"]], shown["version_count"]) == ([5, 2, 1], 3)
    assert shown["versions_next_cursor"] is None
    shown = client.get(f"/api/v1/datasets/{many['id']}").json()
    assert ([v["version"] for v in shown["versions"]], shown["version_count"]) == (list(range(60, 40, -1)), 30)
    rest = client.get(f"/api/v1/datasets/{many['id']}/versions", params={"cursor": shown["versions_next_cursor"]})
    assert [v["version"] for v in rest.json()["items"]] == [*range(40, 31, -1), 1]
