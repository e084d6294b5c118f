"""Who is calling: X-Forwarded-For counts only when the peer is a trusted proxy, read from the right."""

from __future__ import annotations

import pytest

from app.api.client_address import resolve_client_address
from app.settings import SettingsError, load_settings

PROXIES = load_settings({"CONVEYOR_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}).trusted_proxy_networks


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("127.0.0.1", "203.0.113.9", (), "127.0.0.1"),  # nothing trusted by default: the header is ignored
        ("198.51.100.7", "203.0.113.9", PROXIES, "198.51.100.7"),  # a peer that is no proxy cannot claim one
        ("127.0.0.1", "203.0.113.9", PROXIES, "203.0.113.9"),
        ("10.1.2.3", "6.6.6.6, 203.0.113.9, 10.9.9.9", PROXIES, "203.0.113.9"),  # a prepended lie is skipped
        ("10.1.2.3", "10.9.9.9, 10.8.8.8", PROXIES, "10.9.9.9"),  # only proxies: the first hop
        ("10.1.2.3", "not-an-address", PROXIES, "10.1.2.3"),
        ("10.1.2.3", "", PROXIES, "10.1.2.3"),
        (None, "203.0.113.9", PROXIES, None),
    ],
)
def test_resolve_client_address(peer, forwarded, trusted, expected) -> None:  # type: ignore[no-untyped-def]
    assert resolve_client_address(peer, forwarded, trusted) == expected


def test_a_bad_trusted_proxy_stops_the_start_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"CONVEYOR_TRUSTED_PROXIES: 'proxy\.local'"):
        load_settings({"CONVEYOR_TRUSTED_PROXIES": "proxy.local"})
