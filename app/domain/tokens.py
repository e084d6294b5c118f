"""Opaque bearer tokens: random, prefixed by kind, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

#: Prefixes make a leaked token recognisable (and greppable by secret scanners).
PREFIX = {"access": "cva_", "refresh": "cvr_", "api": "cvt_", "invite": "cvi_"}


def new_token(kind: str) -> tuple[str, str]:
    """A fresh token and the hash to store: 256 random bits, so a fast hash is enough."""
    token = PREFIX[kind] + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
