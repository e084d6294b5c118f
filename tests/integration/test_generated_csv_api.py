"""CSV downloads of the column types only a pipeline makes (lists, structs, maps, unions, intervals, blobs)."""

from __future__ import annotations

import csv
import io
import json

from litestar.testing import TestClient

from tests.integration.dataset_support import generated
from tests.integration.engine_parts import Engine_


def test_nested_and_interval_cells_are_written_as_their_json(client: TestClient, parts: Engine_) -> None:
    """The CSV writer takes no list, struct, map, union or interval: such a download was a 200 with an empty body
    (or a response cut after its headers), the file silently lost."""
    sql = (
        "SELECT 1 AS id, ['=1+1', 'b'] AS tags, {'a': 2} AS point, MAP {'k': 'v'} AS attrs, "
        "union_value(n := 3) AS either, INTERVAL 1 DAY AS span, [] AS empty, NULL::INTEGER[] AS missing"
    )
    dataset_id = generated(client, parts, sql)
    base = f"/api/v1/datasets/{dataset_id}/download"
    response = client.get(base, params={"format": "csv"})
    assert response.status_code == 200
    header, row = csv.reader(io.StringIO(response.text))
    (record,) = [json.loads(line) for line in client.get(base, params={"format": "json"}).text.splitlines()]
    assert header == list(record) == ["id", "tags", "point", "attrs", "either", "span", "empty", "missing"]
    assert row[:4] == ["1", '["=1+1","b"]', '{"a":2}', '[["k","v"]]']
    # each nested cell is the JSON an NDJSON download holds; a NULL is an empty cell, as in any column
    assert [json.loads(cell) for cell in row[1:-1]] == [record[name] for name in header[1:-1]]
    assert (row[-1], record["missing"]) == ("", None)


def test_a_blob_cell_a_spreadsheet_would_run_is_defused_as_text_is(client: TestClient, parts: Engine_) -> None:
    """A BLOB column went out byte for byte: `=cmd|' /C calc'!A0` stored as bytes ran in Excel as a text cell would."""
    dataset_id = generated(client, parts, "SELECT '=cmd|'' /C calc''!A0'::BLOB AS payload, 'ok'::BLOB AS fine")
    text = client.get(f"/api/v1/datasets/{dataset_id}/download", params={"format": "csv"}).text
    assert list(csv.reader(io.StringIO(text))) == [["payload", "fine"], ["'=cmd|' /C calc'!A0", "ok"]]
