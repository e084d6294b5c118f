"""The request hash an Idempotency-Key is kept with (app.domain.idempotency.request_hash)."""

from __future__ import annotations

import hashlib

import msgspec

from app.domain.idempotency import request_hash


def test_the_kept_hash_holds_no_password():
    """An unsalted SHA-256 of a body with a password, kept for the key's TTL, gives a weak password to a reader of the
    table: the hash is of the body with its secret-looking fields left out."""
    body = {"username": "li.lei", "password": "123456", "roles": [{"namespace": "ops", "secret": "s3"}]}
    plain = hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()
    assert request_hash(body) != plain
    assert request_hash(body) == request_hash({**body, "password": "another"})
    assert request_hash(body) != request_hash({**body, "username": "han.meimei"})
    assert request_hash({"b": 1, "a": 2}) == request_hash({"a": 2, "b": 1})
