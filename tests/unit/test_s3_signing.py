"""Which S3 requests sign their body: only over plain HTTP, where nothing else shows the bytes were not changed."""

from __future__ import annotations

import pytest

from app.storage.s3 import S3Store

KEYS = {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"}


@pytest.mark.parametrize(
    ("endpoint", "unsigned"),
    [
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:8333"}, False),
        ({"AWS_ENDPOINT_URL": "https://s3.example"}, True),
        ({}, True),  # AWS itself: https
    ],
)
def test_the_body_is_signed_only_without_tls(endpoint: dict[str, str], unsigned: bool) -> None:
    store = S3Store("s3://bucket/prefix", {**KEYS, **endpoint})
    assert str(store._store.config["unsigned_payload"]).lower() == str(unsigned).lower()
