"""A payload's `data.links` as sent: API paths as stored, or absolute URLs under the instance's public address."""

from __future__ import annotations

from typing import Any


def absolute_links(payload: dict[str, Any], public_url: str) -> dict[str, Any]:
    """`payload` with each `data.links` path prefixed by `public_url` (unchanged when it is empty).

    Payloads are written by a database trigger, which knows paths but not the address users reach
    Conveyor at, so the sender completes them at each send (a redelivery gets the current address).
    """
    data = payload.get("data")
    links = data.get("links") if isinstance(data, dict) else None
    if not public_url or not isinstance(links, dict):
        return payload
    base = public_url.rstrip("/")
    done = {k: base + v if isinstance(v, str) and v.startswith("/") else v for k, v in links.items()}
    return {**payload, "data": {**data, "links": done}}
