# ruff: noqa: RUF002  (full-width colons and brackets are how these exports write them)
"""Alipay and WeChat Pay bills and bank statements: title blocks, summary footers, amounts with ¥, tab-padded cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.preview import preview
from tests.bills import (
    ALIPAY_HEADER,
    ALIPAY_TITLE,
    WECHAT_HEADER,
    WECHAT_TITLE,
    alipay_bill,
    bank_statement,
    wechat_bill,
)


@pytest.mark.parametrize(
    ("build", "header_row", "first"),
    [
        (wechat_bill, len(WECHAT_TITLE) + 1, WECHAT_HEADER[0]),
        (alipay_bill, len(ALIPAY_TITLE) + 1, ALIPAY_HEADER[0]),
        (bank_statement, 4, "交易日期"),
    ],
)
def test_the_header_below_a_bills_title_block_is_suggested_on_its_own_line(
    tmp_path: Path, limits: ImportLimits, build, header_row: int, first: str
):
    """A WeChat bill's title holds `收入：2笔 1,200.00元` (two fields split at the comma): the rule gave up on
    commas and split at the tabs padding its cells, suggesting the first data row (header_row 9 for 8)."""
    path = build(tmp_path / "bill.csv")
    shown = preview(path, "bill.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("header_row", header_row)]
    applied = preview(path, "bill.csv", shown.suggested_config, limits)
    assert applied.columns[0].name == first
