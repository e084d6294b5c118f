"""Numbers an ods shows zero-padded by its number styles (`number:min-integer-digits`): read as the text shown, as
an xlsx's are (app.ingest.ods_padded)."""

from __future__ import annotations

from pathlib import Path

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.ods_padded import ods_padded_cells
from tests.unit.ingest.conftest import rows_of
from tests.workbook_files import ods_parts

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3"'
)
_DIGITS = '<number:number number:decimal-places="0" number:min-decimal-places="0" number:min-integer-digits="{}"/>'
#: As LibreOffice 7 saves `000000` (N2), `"No."0000;"No."-0000` (N3 with its positive section N3P0) and a named
#: cell style "Code" of styles.xml in `0000;[RED]-0000` (N100 with N100P0).
_AUTOMATIC = (
    '<style:style style:name="co1" style:family="table-column"/>'
    f'<number:number-style style:name="N2">{_DIGITS.format(6)}</number:number-style>'
    '<number:number-style style:name="N3P0" style:volatile="true"><number:text>No.</number:text>'
    f"{_DIGITS.format(4)}</number:number-style>"
    f'<number:number-style style:name="N3"><number:text>No.-</number:text>{_DIGITS.format(4)}'
    '<style:map style:condition="value()&gt;=0" style:apply-style-name="N3P0"/></number:number-style>'
    '<style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default" '
    'style:data-style-name="N2"/>'
    '<style:style style:name="ce2" style:family="table-cell" style:parent-style-name="Default" '
    'style:data-style-name="N3"/>'
    '<style:style style:name="ce3" style:family="table-cell" style:parent-style-name="Code"/>'
)
_COMMON = (
    f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {_NS}><office:styles>'
    '<style:style style:name="Default" style:family="table-cell"/>'
    f'<number:number-style style:name="N100P0" style:volatile="true">{_DIGITS.format(4)}</number:number-style>'
    f'<number:number-style style:name="N100"><style:text-properties fo:color="#ff0000"/><number:text>-</number:text>'
    f'{_DIGITS.format(4)}<style:map style:condition="value()&gt;=0" style:apply-style-name="N100P0"/>'
    "</number:number-style>"
    '<style:style style:name="Code" style:family="table-cell" style:parent-style-name="Default" '
    'style:data-style-name="N100"/></office:styles></office:document-styles>'
)


def _cell(value: object, style: str | None = None, repeat: int = 1) -> str:
    styled = f' table:style-name="{style}"' if style else ""
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if value is None:
        return f"<table:table-cell{repeated}/>"
    if isinstance(value, str):
        return f'<table:table-cell{styled} office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    return (
        f'<table:table-cell{styled}{repeated} office:value-type="float" office:value="{value}" '
        f'calcext:value-type="float"><text:p>{value}</text:p></table:table-cell>'
    )


def _row(cells: list[str], repeat: int = 1) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>{''.join(cells)}</table:table-row>"


def _codes_ods(path: Path, extra_rows: str = "") -> Path:
    """Column A styled `000000` by its column default (as LibreOffice saves a formatted column), B cell by cell in
    `"No."0000;"No."-0000`, C in the named style Code (`0000;[RED]-0000`, through a parent), D plain numbers; a
    title sheet first, the table on the second."""
    table = (
        '<table:table table:name="Codes">'
        '<table:table-column table:style-name="co1" table:default-cell-style-name="ce1"/>'
        '<table:table-column table:style-name="co1" table:number-columns-repeated="3" '
        'table:default-cell-style-name="Default"/>'
        + _row([_cell("zip", "Default"), _cell("no"), _cell("code"), _cell("qty")])
        + _row([_cell(123), _cell(-12, "ce2"), _cell(-7, "ce3"), _cell(1)])
        + _row([_cell(100020), _cell(5, "ce2"), _cell(45, "ce3"), _cell(2)], repeat=2)
        + extra_rows
        + _row([_cell(None, repeat=1024)], repeat=1048570)
        + "</table:table>"
    )
    title = '<table:table table:name="Title">' + _row([_cell("说明")]) + "</table:table>"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>'
        f"<office:automatic-styles>{_AUTOMATIC}</office:automatic-styles><office:body><office:spreadsheet>"
        f"{title}{table}</office:spreadsheet></office:body></office:document-content>"
    )
    return ods_parts(path, content, _COMMON)


def test_an_ods_reads_its_padded_numbers_as_shown(tmp_path: Path, limits: ImportLimits, run_import):
    """LibreOffice and WPS save `000000` as a number style of min-integer-digits 6: calamine gave 123 for 000123,
    the column was typed integer and the zip codes lost their zeros (an ods's styles were not read at all)."""
    path = _codes_ods(tmp_path / "codes.ods")
    expected = [
        ["000123", "No.-0012", "-0007", 1],
        ["100020", "No.0005", "0045", 2],
        ["100020", "No.0005", "0045", 2],
    ]
    shown = preview(path, path.name, ImportConfig(sheet="Codes"), limits)
    assert [c.type for c in shown.columns] == ["string", "string", "string", "integer"]
    assert shown.rows == expected
    assert any("'zip'" in w and "000000" in w for w in shown.warnings)
    result = run_import(path, sheet="Codes")
    assert [[r["zip"], r["no"], r["code"], r["qty"]] for r in rows_of(result)] == expected
    typed = run_import(path, sheet="Codes", columns={"zip": ColumnSpec(type="integer")})
    assert [r["zip"] for r in rows_of(typed)] == [123, 100020, 100020]


def test_an_ods_preview_reads_a_bounded_head_of_content_xml(tmp_path: Path):
    """The preview's bound holds for an ods as for an xlsx: padded cells past `max_bytes` are the import's."""
    late = _row([_cell(7, "Default")]) * 40_000 + _row([_cell(None), _cell(3, "ce2")])
    path = _codes_ods(tmp_path / "late.ods", late)
    whole = ods_padded_cells(str(path), 1)
    assert whole is not None
    assert [(low, high) for low, high, _ in whole.runs[2]] == [(2, 4), (40_005, 40_005)]
    assert [(low, high) for low, high, _ in whole.runs[1]] == [(2, 4)]
    head = ods_padded_cells(str(path), 1, max_bytes=64 << 10)
    assert head is not None
    assert [(low, high) for low, high, _ in head.runs[2]] == [(2, 4)]
    assert ods_padded_cells(str(path), 0) is None  # the title sheet has none


def test_an_ods_number_style_that_is_no_padding_leaves_numbers_as_numbers(tmp_path: Path, run_import):
    """Decimals, grouping, or a condition other than LibreOffice's sections: numbers, as before."""
    styles = (
        '<number:number-style style:name="N4"><number:number number:decimal-places="2" '
        'number:min-decimal-places="2" number:min-integer-digits="6"/></number:number-style>'
        '<number:number-style style:name="N5"><number:number number:decimal-places="0" '
        'number:min-integer-digits="6" number:grouping="true"/></number:number-style>'
        f'<number:number-style style:name="N6P0">{_DIGITS.format(6)}</number:number-style>'
        f'<number:number-style style:name="N6">{_DIGITS.format(6)}'
        '<style:map style:condition="value()&gt;100" style:apply-style-name="N6P0"/></number:number-style>'
        + "".join(
            f'<style:style style:name="ce{n}" style:family="table-cell" style:data-style-name="N{n}"/>'
            for n in (4, 5, 6)
        )
    )
    table = (
        '<table:table table:name="S">'
        + _row([_cell("a"), _cell("b"), _cell("c")])
        + _row([_cell(12, "ce4"), _cell(12, "ce5"), _cell(12, "ce6")])
        + "</table:table>"
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>'
        f"<office:automatic-styles>{styles}</office:automatic-styles><office:body><office:spreadsheet>"
        f"{table}</office:spreadsheet></office:body></office:document-content>"
    )
    path = ods_parts(tmp_path / "plain.ods", content)
    assert ods_padded_cells(str(path), 0) is None
    assert [c.type for c in run_import(path).columns] == ["integer", "integer", "integer"]
