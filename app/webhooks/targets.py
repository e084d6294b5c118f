"""Where a webhook may be sent: an http(s) URL whose every address is public (the SSRF guard).

The check resolves the host and returns the address it checked; the sender connects to that address (with the
original Host header and TLS server name), so a DNS answer that changes between check and connect (rebinding)
cannot aim a delivery at an internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata services, refused even when private targets are allowed.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "192.0.0.192")
)
MAX_URL_LENGTH = 2000
#: IPv6 prefixes whose last 32 bits are an IPv4 address that a gateway on the path sends on as IPv4: NAT64's
#: well-known prefix (RFC 6052), SIIT's IPv4-translated and the deprecated IPv4-compatible forms (RFC 6145, 4291).
CARRIES_IPV4 = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96"))
#: NAT64 prefixes for local use (RFC 8215): the IPv4 address sits at a network-chosen place, so all are refused.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


class TargetRefused(ValueError):
    """A URL that may not receive webhooks; `code` is the problem+json code the API answers with."""

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class Target:
    """A checked target: connect to `address`, present `host` (Host header, TLS server name)."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        path = parts.path or "/"
        return f"{self.scheme}://{literal}:{self.port}{path}" + (f"?{parts.query}" if parts.query else "")


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or TargetRefused `webhook_url_invalid`."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters", code="webhook_url_invalid")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"the URL is malformed: {exc}", code="webhook_url_invalid") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("the URL must be http:// or https:// with a host", code="webhook_url_invalid")
    if parts.username or parts.password:
        raise TargetRefused("the URL may not carry credentials", code="webhook_url_invalid")
    if parts.fragment:
        raise TargetRefused("the URL may not have a #fragment", code="webhook_url_invalid")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def refused_reason(address: IP, *, allow_private: bool) -> str | None:
    """Why `address` may not be a target (None: it may); an IPv6 address carrying an IPv4 one is judged by that."""
    address = _carried_ipv4(address) or address
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or not address.is_global or address in LOCAL_NAT64:
        return "a private or reserved address"
    return None


def _carried_ipv4(address: IP) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, NAT64, SIIT or IPv4-compatible IPv6 address, if any."""
    if isinstance(address, ipaddress.IPv4Address) or address.is_loopback or address.is_unspecified:
        return None
    if address.ipv4_mapped is not None or address.sixtofour is not None:
        return address.ipv4_mapped or address.sixtofour
    if any(address in network for network in CARRIES_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check `url` and resolve its host: TargetRefused unless every address it resolves to is allowed."""
    scheme, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"the host {host!r} does not resolve: {exc}", code="webhook_url_unresolvable") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"the host {host!r} has no address", code="webhook_url_unresolvable")
    for address in addresses:
        if (reason := refused_reason(address, allow_private=allow_private)) is not None:
            raise TargetRefused(
                f"the host {host!r} resolves to {address}, {reason}; webhooks are only sent to public addresses "
                "(set CONVEYOR_WEBHOOK_ALLOW_PRIVATE=true to allow private ones)",
                code="webhook_url_forbidden",
            )
    return Target(url=url, scheme=scheme, host=host, port=port, address=str(addresses[0]))
