"""JSON imports: arrays, NDJSON, records under a path, flattening, arrays kept as JSON, bad documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.errors import ImportFailed
from tests.unit.ingest.conftest import rows_of

RECORDS = [
    {"id": 1, "name": "Ada", "address": {"city": "London", "geo": {"lat": 51.5}}, "tags": ["a", "b"]},
    {"id": 2, "name": "Grace", "address": {"city": "New York", "geo": {"lat": 40.7}}, "tags": []},
]


def test_a_top_level_array_is_flattened_with_arrays_kept_as_json(tmp_path: Path, run_import):
    path = tmp_path / "people.json"
    path.write_text(json.dumps(RECORDS))
    result = run_import(path)
    assert [(c.name, c.type) for c in result.columns] == [
        ("id", "integer"),
        ("name", "string"),
        ("address.city", "string"),
        ("address.geo.lat", "float"),
        ("tags", "json"),
    ]
    first = rows_of(result)[0]
    assert first["address.city"] == "London"
    assert json.loads(first["tags"]) == ["a", "b"]


def test_ndjson_is_read_line_by_line(tmp_path: Path, run_import):
    path = tmp_path / "people.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    result = run_import(path, flatten_separator="_")
    assert result.rows == 2
    assert result.config.format == "ndjson"
    assert [row["address_city"] for row in rows_of(result)] == ["London", "New York"]


def test_records_under_a_path(tmp_path: Path, run_import):
    path = tmp_path / "api.json"
    path.write_text(json.dumps({"meta": {"count": 2}, "data": {"items": RECORDS}}))
    result = run_import(path, record_path="data.items")
    assert [row["name"] for row in rows_of(result)] == ["Ada", "Grace"]


def test_the_record_path_is_found_when_not_given(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "api.json"
    path.write_text(json.dumps({"meta": {"count": 2}, "data": {"items": RECORDS}}))
    shown = preview(path, "api.json", ImportConfig(), limits, rows=5)
    assert shown.config.record_path == "data.items"
    assert len(shown.rows) == 2
    assert any("data.items" in warning for warning in shown.warnings)
    assert [c.name for c in shown.columns][:3] == ["id", "name", "address.city"]


def test_json_types_can_be_forced_strictly_or_leniently(tmp_path: Path, run_import):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"n": "1"}, {"n": "two"}, {"n": "3"}]))
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns={"n": ColumnSpec(type="integer", name="number")})
    assert (caught.value.errors[0]["row"], caught.value.errors[0]["column"]) == (2, "n")
    assert os.listdir(tmp_path / "out") == []
    result = run_import(path, columns={"n": ColumnSpec(type="integer", name="number")}, on_error="lenient")
    assert [row["number"] for row in rows_of(result)] == [1, 3]
    assert result.rejected == 1
    assert pq.read_table(result.rejects_path).to_pylist()[0]["value"] == "two"


def test_json_nested_ten_thousand_levels_fails_clearly(tmp_path: Path, run_import):
    depth = 10_000
    path = tmp_path / "deep.json"
    path.write_text("[" + '{"a":' * depth + "1" + "}" * depth + "]")
    with pytest.raises(ImportFailed, match="depth"):
        run_import(path)
    wrapped = tmp_path / "deep_path.json"
    wrapped.write_text('{"data": [' + '{"a":' * depth + "1" + "}" * depth + "]}")
    with pytest.raises(ImportFailed, match="deep"):
        run_import(wrapped, record_path="data")
    assert os.listdir(tmp_path / "out") == []


def test_invalid_json_fails_clearly(tmp_path: Path, run_import):
    path = tmp_path / "a.json"
    path.write_text('{"data": [{"a": 1}, {"a": ')
    with pytest.raises(ImportFailed, match="not valid JSON"):
        run_import(path, record_path="data")


def test_a_json_in_utf16_is_read(tmp_path: Path, run_import):
    path = tmp_path / "a.json"
    path.write_bytes(json.dumps([{"city": "Besançon"}], ensure_ascii=False).encode("utf-16"))
    assert rows_of(run_import(path)) == [{"city": "Besançon"}]


def test_the_preview_shows_the_first_records(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"i": i, "sq": i * i} for i in range(5000)]))
    shown = preview(path, "many.json", ImportConfig(), limits, rows=3)
    assert shown.rows == [[0, 0], [1, 1], [2, 4]]
    assert shown.format == "json"


def test_an_empty_array_has_no_records(tmp_path: Path, run_import):
    path = tmp_path / "a.json"
    path.write_text("[]")
    with pytest.raises(ImportFailed) as caught:
        run_import(path)
    assert caught.value.code == "no_records"


#: The same records in each way a JSON file holds them: DuckDB reads the first two, ijson the one under a path.
LAYOUTS = {
    "array.json": lambda records: "[" + ",\n".join(records) + "]",
    "lines.ndjson": lambda records: "\n".join(records) + "\n",
    "wrapped.json": lambda records: '{"meta": {"n": 2}, "data": [' + ",\n".join(records) + "]}",
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("record", ['{"id": 2, "id": 3}', '{"id": 2, "geo": {"lat": 1, "lat": 2}}'])
def test_a_key_twice_in_an_object_is_refused_alike_by_the_preview_and_the_import(
    tmp_path: Path, limits: ImportLimits, run_import, layout: str, record: str
):
    """The preview kept the last value, DuckDB's import refused with a long message, a record-path import kept the
    last value: now both refuse, naming the record and the key."""
    path = tmp_path / layout
    path.write_text(LAYOUTS[layout](['{"id": 1, "geo": {"lat": 0}}', record]))
    with pytest.raises(ImportFailed) as shown:
        preview(path, layout, ImportConfig(), limits)
    with pytest.raises(ImportFailed) as imported:
        run_import(path)
    key = "id" if record.count('"id"') == 2 else "lat"
    assert shown.value.code == imported.value.code == "duplicate_key"
    assert shown.value.detail == imported.value.detail
    assert shown.value.detail.startswith(f"record 2 has the key {key!r} twice in one object;")
    assert os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_nan_and_infinity_are_imported_as_null_with_a_warning_by_preview_and_import(
    tmp_path: Path, limits: ImportLimits, run_import, layout: str
):
    """Python's json.dumps writes NaN and Infinity: the preview failed (yajl: 'invalid char'), an array or NDJSON
    import stored IEEE NaN and inf, a record-path import failed. A string holding those words is left alone."""
    records = ['{"v": 1.5, "s": "NaN and -Infinity"}', '{"v": NaN, "s": "x"}', '{"v": -Infinity, "s": "y"}']
    path = tmp_path / layout
    path.write_text(LAYOUTS[layout](records))
    warning = "NaN or Infinity (not JSON numbers) imported as NULL: 2 value(s) read, the first on line 2"
    shown = preview(path, layout, ImportConfig(), limits)
    assert ([c.type for c in shown.columns], shown.rows) == (
        ["float", "string"],
        [[1.5, "NaN and -Infinity"], [None, "x"], [None, "y"]],
    )
    assert warning in shown.warnings
    result = run_import(path)
    assert [list(row.values()) for row in rows_of(result)] == shown.rows
    assert warning in result.warnings


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_integers_past_64_bits_keep_every_digit_as_decimal_or_text_in_preview_and_import(
    tmp_path: Path, limits: ImportLimits, run_import, layout: str
):
    """DuckDB read 123456789012345678901234567890 as 1.2345678901234568e29 (silently) and 18446744073709551615 as a
    HUGEINT that failed its cast to BIGINT. Such columns follow the CSV rule (duck.exact_number_type): `mixed`, a
    wide integer and a fraction, is DECIMAL(38, 1)."""
    wide, longer = "123456789012345678901234567890", "9" * 45
    records = [
        f'{{"id": {wide}, "u64": 18446744073709551615, "long": {longer}, "mixed": 0.5, "ratio": 0.25, '
        f'"geo": {{"cell": {wide}}}, "list": [1, {wide}]}}',
        f'{{"id": -7, "u64": 1, "long": 3, "mixed": {wide}, "ratio": 1.5, "geo": {{"cell": null}}, "list": []}}',
    ]
    path = tmp_path / layout
    path.write_text(LAYOUTS[layout](records))
    shown = preview(path, layout, ImportConfig(), limits)
    expected_types = ["decimal", "decimal", "string", "decimal", "float", "decimal", "json"]
    assert [c.type for c in shown.columns] == expected_types
    assert shown.rows == [
        [wide, "18446744073709551615", longer, "0.5", 0.25, wide, f"[1,{wide}]"],
        ["-7", "1", "3", f"{wide}.0", 1.5, None, "[]"],
    ]
    assert shown.config.columns is not None
    assert (shown.config.columns["id"].type, shown.config.columns["id"].scale) == ("decimal", 0)
    result = run_import(path)
    assert [c.type for c in result.columns] == expected_types
    assert [[json.loads(json.dumps(v, default=str)) for v in row.values()] for row in rows_of(result)] == shown.rows
    assert str(pq.read_schema(result.data_path).field("id").type) == "decimal128(38, 0)"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_decimals_past_17_significant_digits_keep_every_digit_with_a_warning_naming_the_column(
    tmp_path: Path, limits: ImportLimits, run_import, layout: str
):
    """DuckDB read 12345678901234567890.123 as the double 1.2345678901234567e19 and 0.1234567890123456789012 as
    0.12345678901234568, silently. Such a column follows the integers' rule (duck.exact_number_type)."""
    big, small, huge = "12345678901234567890.123", "0.1234567890123456789012", "1" * 30 + "." + "2" * 10
    records = [
        f'{{"big": {big}, "small": {small}, "huge": {huge}, "sci": 1.2345678901234567890e5, '
        '"plain": 0.30000000000000004}',
        '{"big": 2.5, "small": -1, "huge": 1, "sci": 2, "plain": 0.8444218515250481}',
    ]
    path = tmp_path / layout
    path.write_text(LAYOUTS[layout](records))
    shown = preview(path, layout, ImportConfig(), limits)
    expected = [("decimal", 3), ("decimal", 22), ("string", None), ("decimal", 13), ("float", None)]
    assert shown.config.columns is not None
    assert [(c.type, c.scale) for c in shown.config.columns.values()] == expected
    assert shown.rows == [
        [big, small, huge, "123456.7890123456789", 0.30000000000000004],
        ["2.500", "-1.0000000000000000000000", "1", "2.0000000000000", 0.8444218515250481],
    ]
    said = [w for w in shown.warnings if "a double would round" in w]
    assert [w.split("'")[1] for w in said] == ["big", "small", "huge", "sci"]
    assert said[0] == (
        "column 'big' has numbers a double would round (integers past 64 bits or more than 17 significant digits): "
        "read as DECIMAL(38, 3), every digit kept"
    )
    result = run_import(path)
    assert [(c.type, c.scale) for c in (result.config.columns or {}).values()] == expected
    assert [w for w in result.warnings if "a double would round" in w] == said
    assert [[json.loads(json.dumps(v, default=str)) for v in row.values()] for row in rows_of(result)] == shown.rows
    assert str(pq.read_schema(result.data_path).field("small").type) == "decimal128(38, 22)"


def test_ordinary_floats_are_not_read_twice(tmp_path: Path, run_import, monkeypatch: pytest.MonkeyPatch):
    """The scan lets a file of doubles as programs write them (at most 17 digits) go straight to DuckDB."""
    from app.ingest import json_numbers

    path = tmp_path / "floats.ndjson"
    path.write_text("".join(f'{{"v": {i / 7!r}, "w": {1 / (i + 3)!r}}}\n' for i in range(1000)))
    assert not json_numbers.scan(str(path)).long_numbers
    monkeypatch.setattr(json_numbers, "typed_numbers", None)  # fails if called
    assert [c.type for c in run_import(path).columns] == ["float", "float"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("array.json", '[{"": 1, "b": 2}, {"": 3, "b": 4}]'),
        ("lines.ndjson", '{"": 1, "b": 2}\n{"": 3, "b": 4}\n'),
        ("nested.json", '{"data": [{"": 1, "b": 2}, {"": 3, "b": 4}]}'),
    ],
)
def test_a_record_key_that_is_empty_is_a_named_column_as_a_blank_one_is(
    tmp_path: Path, limits: ImportLimits, run_import, name: str, text: str
):
    # DuckDB reads records with an empty key as one MAP column, `json`, each holding the whole record
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    said = "column 1 has an empty header; named it column_1"
    result = run_import(path)
    assert rows_of(result) == [{"column_1": 1, "b": 2}, {"column_1": 3, "b": 4}]
    assert said in result.warnings
    shown = preview(path, name, ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["column_1", "b"]
    assert said in shown.warnings


@pytest.mark.parametrize(
    "text",
    [
        '[{"": 1, "__conveyor_empty_key__": 2, "b": 3}]',  # one record holds both
        '[{"": 1, "b": 2}, {"__conveyor_empty_key__": 3, "b": 4}]',  # another record holds the placeholder
        '{"data": [{"__conveyor_empty_key__": 3, "b": 4}, {"": 1, "b": 2}]}',  # the placeholder first, under a path
    ],
)
def test_a_record_holding_the_key_an_empty_one_is_renamed_to_is_refused_not_merged(
    tmp_path: Path, run_import, text: str
):
    # The empty key is written under a placeholder for DuckDB: a record's own key of that name must not become
    # the empty key's column, or overwrite its value
    path = tmp_path / "both.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as refused:
        run_import(path)
    assert refused.value.code == "duplicate_key"
    assert "__conveyor_empty_key__" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "text", "encoding"),
    [
        ("array.json", '[{"__conveyor_empty_key__": 3, "b": "甲"}]', "utf-8"),  # read by DuckDB
        ("path.json", '{"data": [{"__conveyor_empty_key__": 3, "b": "甲"}]}', "utf-8"),  # through the extract
        ("gbk.json", '[{"__conveyor_empty_key__": 3, "b": "甲"}]', "gbk"),  # through the extract, as UTF-8
    ],
)
def test_a_record_key_named_as_the_placeholder_keeps_its_name_where_no_key_is_empty(
    tmp_path: Path, limits: ImportLimits, run_import, name: str, text: str, encoding: str
):
    """Without an empty key the placeholder stands for none: the file's own key of that name was named column_1,
    with an empty-header warning, as an empty key is."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    result = run_import(path)
    assert rows_of(result) == [{"__conveyor_empty_key__": 3, "b": "甲"}]
    shown = preview(path, name, ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["__conveyor_empty_key__", "b"]
    assert not [w for w in result.warnings + shown.warnings if "empty header" in w]


def test_a_record_whose_one_key_is_json_holding_an_empty_key_keeps_it_as_json(tmp_path: Path, run_import):
    # DuckDB reads it as a MAP column named `json` too: it is one, the record's own
    path = tmp_path / "one.json"
    path.write_text('[{"json": {"": 1}}, {"json": {"": 2}}]', encoding="utf-8")
    result = run_import(path)
    assert [json.loads(row["json"]) for row in rows_of(result)] == [{"": 1}, {"": 2}]
    assert not result.warnings
