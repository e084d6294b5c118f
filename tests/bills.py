# ruff: noqa: RUF001, RUF002  (full-width colons and brackets are how these exports write them)
"""Chinese finance exports built by hand as the apps write them: a WeChat Pay bill (a title block holding
amounts such as `收入：2笔 1,235.50元`, a `----微信支付账单明细列表----` line, cells padded with a tab), an Alipay
bill (GBK, a `----` line above and a summary block below the table) and a bank statement (two-field preamble)."""

from __future__ import annotations

from pathlib import Path

WECHAT_HEADER = [
    "交易时间",
    "交易类型",
    "交易对方",
    "商品",
    "收/支",
    "金额(元)",
    "支付方式",
    "当前状态",
    "交易单号",
    "备注",
]
WECHAT_ROWS = [
    ["2026-11-02 12:00:00", "商户消费", "超市", "日用品", "支出", "¥35.50", "零钱", "支付成功", "4200001\t", "/"],
    ["2026-11-03 13:00:00", "转账", "李四", "转账", "收入", '"¥1,200.00"', "/", "已存入零钱", "4200002\t", "/"],
    ["2026-11-04 09:30:00", "微信红包", "王五", "红包", "收入", "¥0.00", "/", "已存入零钱", "4200003\t", "/"],
]
WECHAT_TITLE = [
    "微信支付账单明细",
    "微信昵称：[张三]",
    "起始时间：[2026-11-01 00:00:00] 终止时间：[2026-11-30 23:59:59]",
    "共3笔记录",
    "收入：2笔 1,200.00元",
    "支出：1笔 35.50元",
    "----------------------微信支付账单明细列表--------------------",
]
WECHAT_FOOTER = ["#-----", "共3笔记录", "已收入：2笔 1,200.00元"]

ALIPAY_HEADER = ["交易号", "交易创建时间", "交易对方", "商品名称", "金额（元）", "收/支", "交易状态"]
ALIPAY_ROWS = [
    ["2026110222001", "2026-11-02 10:00:00", "商店", "商品A", "12.50", "支出", "交易成功"],
    ["2026110322002", "2026-11-03 10:00:00", "商店", "商品B", "8.00", "支出", "交易成功"],
    ["2026110422003", "2026-11-04 11:00:00", "张三", "退款", "3.25", "收入", "交易成功"],
]
ALIPAY_TITLE = [
    "支付宝交易记录明细查询",
    "账号:[abc@example.com]",
    "起始日期:[2026-11-01 00:00:00]    终止日期:[2026-12-01 00:00:00]",
    "#-----------------------------------交易记录明细列表------------------------------------",
]
ALIPAY_FOOTER = [
    "#-----------------------------------------------------------------",
    "共3笔记录",
    "已收入:1笔,3.25元",
    "已支出:2笔,20.50元",
]

BANK_TITLE = ["账号,6222021234567890123", "户名,张三", "起止日期,2026-11-01至2026-11-30"]
BANK_HEADER = ["交易日期", "摘要", "收入", "支出", "余额", "对方户名"]
BANK_ROWS = [
    ["2026-11-02", "工资", '"5,000.00"', "", '"15,000.00"', "公司"],
    ["2026-11-05", "消费", "", "120.00", '"14,880.00"', "超市"],
    ["2026-11-06", "消费", "", "30.00", '"14,850.00"', "超市"],
]


def _text(title: list[str], header: list[str], rows: list[list[str]], footer: list[str]) -> str:
    lines = [*title, ",".join(header), *(",".join(row) for row in rows), *footer]
    return "\n".join(lines) + "\n"


def wechat_bill(path: Path, *, footer: bool = False) -> Path:
    """A WeChat Pay bill, UTF-8 with a byte order mark; its header is line len(WECHAT_TITLE) + 1."""
    path.write_text(_text(WECHAT_TITLE, WECHAT_HEADER, WECHAT_ROWS, WECHAT_FOOTER if footer else []), "utf-8-sig")
    return path


def alipay_bill(path: Path, *, footer: bool = False) -> Path:
    """An Alipay bill in GBK; its header is line len(ALIPAY_TITLE) + 1."""
    path.write_bytes(_text(ALIPAY_TITLE, ALIPAY_HEADER, ALIPAY_ROWS, ALIPAY_FOOTER if footer else []).encode("gbk"))
    return path


#: A statement's totals row after its label: the sums of 收入 and 支出, the other cells empty.
BANK_TOTALS = ["", '"5,000.00"', "150.00", "", ""]


def bank_statement(path: Path, *, totals: str | None = None, end: str = "\n") -> Path:
    """A bank statement whose preamble lines hold two fields each; its header is line 4. `totals`: the first cell
    of a totals row ending the table (合计, Total: ...), its other cells BANK_TOTALS; `end`: the file's last line
    end ("" for none)."""
    rows = [*BANK_ROWS, *([[totals, *BANK_TOTALS]] if totals is not None else [])]
    path.write_text(_text(BANK_TITLE, BANK_HEADER, rows, []).removesuffix("\n") + end, "utf-8")
    return path
