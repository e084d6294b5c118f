"""Webhook targets (the SSRF guard) and Standard Webhooks signatures, checked against the spec's own library."""

from __future__ import annotations

import ipaddress

import pytest
from standardwebhooks.webhooks import Webhook

from app.webhooks import signing, targets


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "webhook_url_invalid"),
        ("http://user:pw@example.com/", "webhook_url_invalid"),
        ("http://example.com/#x", "webhook_url_invalid"),
        ("http://example.com:99999/", "webhook_url_invalid"),
        ("http://no-such-host.invalid/", "webhook_url_unresolvable"),
        ("http://127.0.0.1:8000/", "webhook_url_forbidden"),
        ("http://localhost/", "webhook_url_forbidden"),
        ("http://[::1]/", "webhook_url_forbidden"),
        ("http://10.1.2.3/", "webhook_url_forbidden"),
        ("http://172.16.0.1/", "webhook_url_forbidden"),
        ("http://192.168.1.1/", "webhook_url_forbidden"),
        ("http://100.64.0.1/", "webhook_url_forbidden"),
        ("http://169.254.169.254/latest/meta-data", "webhook_url_forbidden"),
        ("http://[fe80::1]/", "webhook_url_forbidden"),
        ("http://[fd00:ec2::254]/", "webhook_url_forbidden"),
        ("http://224.0.0.1/", "webhook_url_forbidden"),
        ("http://0.0.0.0/", "webhook_url_forbidden"),
        ("http://[::ffff:192.168.1.1]/", "webhook_url_forbidden"),
        ("http://2130706433/", "webhook_url_forbidden"),  # 127.0.0.1 written as a number
        # IPv4 carried in IPv6, which a NAT64 gateway, a 6to4 relay or a SIIT translator sends on as IPv4
        ("http://[64:ff9b::10.0.0.1]/", "webhook_url_forbidden"),
        ("http://[64:ff9b::127.0.0.1]/", "webhook_url_forbidden"),
        ("http://[64:ff9b:1::a00:1]/", "webhook_url_forbidden"),
        ("http://[2002:c0a8:101::1]/", "webhook_url_forbidden"),
        ("http://[::ffff:0:10.0.0.1]/", "webhook_url_forbidden"),
        ("http://[::10.0.0.1]/", "webhook_url_forbidden"),
    ],
)
def test_refused_targets(url: str, code: str) -> None:
    with pytest.raises(targets.TargetRefused) as refused:
        targets.resolve(url, allow_private=False)
    assert refused.value.code == code


def test_private_targets_pass_when_allowed_but_metadata_never() -> None:
    assert (
        targets.resolve("http://127.0.0.1:8080/x?y=1", allow_private=True).pinned_url() == "http://127.0.0.1:8080/x?y=1"
    )
    for address in ("169.254.169.254", "fd00:ec2::254", "224.0.0.1", "::", "64:ff9b::169.254.169.254"):
        assert targets.refused_reason(ipaddress.ip_address(address), allow_private=True) is not None


def test_public_addresses_pass_and_the_pinned_url_keeps_path_and_query() -> None:
    assert targets.refused_reason(ipaddress.ip_address("93.184.215.14"), allow_private=False) is None
    assert targets.refused_reason(ipaddress.ip_address("64:ff9b::93.184.215.14"), allow_private=False) is None
    target = targets.Target(
        url="https://h.example/a/b?c=d", scheme="https", host="h.example", port=443, address="2606:2800::1"
    )
    assert target.pinned_url() == "https://[2606:2800::1]:443/a/b?c=d"


def test_signatures_verify_with_the_standard_webhooks_library_for_each_valid_secret() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    body, timestamp = b'{"type":"run.succeeded"}', 1_900_000_000
    headers = signing.headers([new, old], "msg_1", timestamp, body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        webhook = Webhook(secret)
        assert webhook.sign("msg_1", _at(timestamp), body.decode()) in headers["webhook-signature"].split(" ")


def _at(timestamp: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC)
