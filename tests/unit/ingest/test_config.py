"""The import configuration: every field validated, errors naming the field."""

from __future__ import annotations

import pytest

from app.ingest import ColumnSpec, ImportConfig
from app.ingest.config import CellRange, column_letters, parse_config, parse_range
from app.ingest.errors import InvalidImportConfig


def test_an_empty_config_is_valid_and_strict_by_default():
    config = parse_config(b"{}")
    assert config.on_error == "strict"
    assert config.columns is None


def test_a_full_config_round_trips_from_json():
    config = parse_config(
        b'{"format": "csv", "header_row": 2, "skip_rows": 1, "encoding": "GBK", "delimiter": ";", "quote": "\'",'
        b'"null_values": ["NA"], "decimal_separator": ",", "thousands_separator": ".", "limit": 10,'
        b'"columns": {"a": {"name": "b", "type": "date", "format": "%d/%m/%Y"}, "c": {"include": false}},'
        b'"on_error": "lenient"}'
    )
    assert config.columns == {"a": ColumnSpec(name="b", type="date", format="%d/%m/%Y"), "c": ColumnSpec(include=False)}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"header_row": -1}, "header_row"),
        ({"skip_rows": -2}, "skip_rows"),
        ({"limit": 0}, "limit"),
        ({"range": "A3-F10"}, "range"),
        ({"range": "A3:F10", "header_row": 1}, "header_row"),
        ({"encoding": "ebcdic-nope"}, "encoding"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"decimal_separator": ";"}, "decimal_separator"),
        ({"delimiter": ",", "decimal_separator": ","}, "decimal_separator"),
        ({"record_path": "data..items"}, "record_path"),
        ({"record_path": "items", "format": "csv"}, "record_path"),
        ({"columns": {"a": ColumnSpec(type="integer", format="%Y")}}, "columns.a.format"),
        ({"columns": {"a": ColumnSpec(name="x"), "b": ColumnSpec(name="x")}}, "columns"),
        ({"sheet": -1}, "sheet"),
    ],
)
def test_a_bad_field_is_named_in_the_error(fields, field):
    with pytest.raises(InvalidImportConfig) as caught:
        ImportConfig(**fields).validate()
    assert caught.value.code == "invalid_import_config"
    assert field in [error["field"] for error in caught.value.errors]


def test_unknown_keys_and_wrong_types_are_refused_naming_the_field():
    with pytest.raises(InvalidImportConfig) as unknown:
        parse_config(b'{"delimeter": ";"}')
    with pytest.raises(InvalidImportConfig) as wrong:
        parse_config(b'{"on_error": "sometimes"}')
    assert "delimeter" in unknown.value.detail
    assert wrong.value.errors[0]["field"] == "on_error"


def test_ranges_parse_either_corner_first():
    assert parse_range("b3:$F$1003") == CellRange(3, 2, 1003, 6)
    assert parse_range("F1003:B3") == CellRange(3, 2, 1003, 6)
    assert column_letters(28) == "AB"
