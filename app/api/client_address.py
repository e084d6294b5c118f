"""The caller's address: the one place the API decides who is calling from where.

The peer of the TCP connection is the caller, unless that peer is one of the
proxies named in CONVEYOR_TRUSTED_PROXIES: then the address comes from the
X-Forwarded-For chain, read from the right and skipping trusted hops, so a
client cannot choose its own address by sending the header itself. The login
lockout, the rate limit and the audit log all read the address here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from litestar.types import Scope

from app.settings import IpNetwork

_STATE_KEY = "client_address"


def _trusted(address: str, networks: Sequence[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def resolve_client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[IpNetwork]) -> str | None:
    """The caller's address, given the connection's peer and its X-Forwarded-For header."""
    if peer is None or not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop if _is_address(hop) else peer
    return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(scope: Scope) -> str | None:
    """This request's caller address (decided once per request)."""
    state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
    if _STATE_KEY not in state:
        peer = (scope.get("client") or (None,))[0]
        forwarded = b",".join(v for k, v in scope.get("headers", []) if k == b"x-forwarded-for")
        trusted = scope["litestar_app"].state.get("trusted_proxies", ()) if "litestar_app" in scope else ()
        state[_STATE_KEY] = resolve_client_address(peer, forwarded.decode("latin-1"), trusted)
    return state[_STATE_KEY]  # type: ignore[no-any-return]
